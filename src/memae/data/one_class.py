"""The one-class protocol of MemAE (Gong et al., ICCV 2019, section 4.1) for labelled image sets.

The splits are defined in :mod:`memae.data.splits` with every other protocol's (issue 21); this module keeps the
names importable from here.  :func:`one_class_split` is ``data.protocol: paper`` (the official train and test images
pooled), :func:`official_test_split` is ``data.protocol: official-test`` (test images from the official test set
only, so that a recipe chosen inside the official training images never sees a published test label).
"""

from __future__ import annotations

from .splits import OneClassSplit, official_test_split, one_class_split

__all__ = ["OneClassSplit", "official_test_split", "one_class_split"]
