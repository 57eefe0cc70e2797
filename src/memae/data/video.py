"""Video input: frame sources (video files, frame folders), a frame cache, clip datasets and streaming clips.

Everything here works on grey ``uint8`` frames of shape ``(H, W)``; a video is a ``(T, H, W)`` uint8 array.
This module gathers the video names in one place; each job has its own module:

* :mod:`.video_sources`: :func:`open_video` turns a path into a :class:`VideoSource` (:class:`VideoFile` decoded
  with PyAV, or :class:`FrameFolder` of jpg/png/tif/bmp images read with Pillow); :func:`list_videos`.
* :mod:`.frames`: one frame converted to grey (:func:`to_grey`), resized (:func:`resize_frame`) or read from an
  image file (:func:`read_image`).
* :mod:`.damage` and :mod:`.avi_index`: what a damaged file lost (:class:`DamageReport`), with the frame numbers an
  AVI file's own index gives.
* :mod:`.video_writer`: :func:`write_video`.
* :mod:`.frame_cache`: :func:`load_frames` decodes a source once, converts to grey, resizes and, with
  ``cache_dir``, keeps an ``.npy`` copy that later calls memory-map instead of decoding again (so training epochs
  never decode).
* :mod:`.clips`: :class:`ClipDataset` serves overlapping clips ``(1, clip_len, h, w)`` in ``[-1, 1]`` for
  training/scoring; :func:`iter_clips` forms the same clips from a frame stream while holding at most ``clip_len``
  frames.
* :mod:`.video_benchmark`: :class:`VideoBenchmark` describes a benchmark (UCSD Ped1/Ped2, CUHK Avenue,
  ShanghaiTech): train and test sources plus per-frame test labels; the dataset modules build them and
  :func:`memae.data.benchmarks.load_benchmark` picks one by name.
"""

from __future__ import annotations

from memae.data.clips import ClipDataset, clip_starts, clip_to_tensor, iter_clips
from memae.data.damage import DamageReport
from memae.data.frame_cache import cache_key, iter_frames, load_frames, load_videos
from memae.data.frames import (IMAGE_SUFFIXES, RESAMPLE_MODES, has_frame_images, natural_key, read_image,
                               resize_frame, to_grey)
from memae.data.video_benchmark import (MaskLoader, VideoBenchmark, attach_labels, check_label_length, find_first,
                                        intervals_to_labels, read_interval_mat, split_concatenated)
from memae.data.video_sources import (VIDEO_SUFFIXES, ArrayVideo, FrameFolder, VideoFile, VideoSource, list_videos,
                                      open_video)
from memae.data.video_writer import write_video

__all__ = [
    "VIDEO_SUFFIXES", "IMAGE_SUFFIXES", "RESAMPLE_MODES", "VideoSource", "ArrayVideo", "FrameFolder", "VideoFile",
    "DamageReport", "open_video", "list_videos", "read_image", "write_video", "natural_key", "has_frame_images",
    "to_grey", "resize_frame", "iter_frames", "load_frames", "load_videos", "cache_key", "clip_to_tensor",
    "clip_starts", "ClipDataset", "iter_clips", "MaskLoader", "VideoBenchmark", "check_label_length",
    "attach_labels", "split_concatenated", "intervals_to_labels", "read_interval_mat", "find_first",
]
