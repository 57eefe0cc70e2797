"""Shared test settings.

Tiny networks on a 2-core machine run several times faster with one torch thread (and tests run beside other
work), so the whole suite uses one thread.
"""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def datasets_root():
    """The real datasets: $MEMAE_DATASETS, else ../shared/datasets beside the repository."""
    import os
    from pathlib import Path

    return Path(os.environ.get("MEMAE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
