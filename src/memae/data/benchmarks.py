"""Load a video benchmark by name: a dispatcher over the dataset modules (UCSD, CUHK Avenue, ShanghaiTech, and
``videos``: a folder of the user's own footage, :mod:`memae.data.footage`).

It sits above :mod:`memae.data.video` and the dataset modules, which import the shared video types from
:mod:`memae.data.video`; keeping the dispatcher here keeps those imports free of cycles.
"""

from __future__ import annotations

import os

from memae.data.video import VideoBenchmark
from memae.errors import ConfigError, UnknownNameError

__all__ = ["BENCHMARKS", "FOOTAGE", "VIDEO_DATASETS", "load_benchmark"]

BENCHMARKS = ("ped1", "ped2", "avenue", "shanghaitech")
FOOTAGE = "videos"  # a folder of the user's own normal footage (memae.data.footage)
VIDEO_DATASETS = (*BENCHMARKS, FOOTAGE)
_ALIASES = {
    "ucsd_ped1": "ped1", "ucsdped1": "ped1", "ucsd-ped1": "ped1",
    "ucsd_ped2": "ped2", "ucsdped2": "ped2", "ucsd-ped2": "ped2",
    "cuhk_avenue": "avenue", "shanghai": "shanghaitech", "shanghaitech_campus": "shanghaitech", "sht": "shanghaitech",
}


def load_benchmark(
    name: str, root: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None, *,
    fps: float | None = None, min_frames: int = 1,
) -> VideoBenchmark:
    """Load a video benchmark by name from ``root``.

    Parameters
    ----------
    name : str
        ``"ped1"``, ``"ped2"`` (UCSD), ``"avenue"`` (CUHK Avenue) or ``"shanghaitech"`` (aliases such as
        ``"ucsd_ped2"`` work too).
    root : path
        The dataset folder in one of the layouts the dataset modules document.
    labels : str or path, optional
        Which ground truth: for Avenue ``"volLabel"`` (default, original masks) or ``"mnad"``; for any
        benchmark a path to a ground-truth file; None picks the default.
    fps, min_frames : optional
        ``videos`` only: resample video files to ``fps``; every video must have ``min_frames`` (one clip).  The
        benchmarks are read at their own rate and skip short training videos.
    """
    key = _ALIASES.get(name.lower(), name.lower())
    if key == FOOTAGE:
        from memae.data.footage import load_footage

        return load_footage(root, labels=labels, fps=fps, min_frames=min_frames)
    if fps is not None:
        raise ConfigError(f"data.fps resamples your own footage (data.dataset {FOOTAGE}); the {name} benchmark is read "
                        "at its own frame rate: remove data.fps")
    if key in ("ped1", "ped2"):
        from memae.data.ucsd import load_ucsd

        return load_ucsd(root, ped=int(key[-1]), labels=labels)
    if key == "avenue":
        from memae.data.avenue import load_avenue

        return load_avenue(root, labels="volLabel" if labels is None else labels)
    if key == "shanghaitech":
        from memae.data.shanghaitech import load_shanghaitech

        return load_shanghaitech(root, labels=labels)
    raise UnknownNameError(f"unknown video benchmark {name!r}; choose one of {', '.join(VIDEO_DATASETS)}")
