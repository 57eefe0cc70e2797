"""The ``idx1`` index of an AVI file, read without decoding: which frame each video chunk holds, so that frames
after a damaged stretch keep their true numbers (:meth:`memae.data.video_sources.VideoFile.iter_indexed_frames`)."""

from __future__ import annotations

import os
from pathlib import Path


def _avi_frame_index(path: Path, stream_index: int) -> dict[int, int] | None:
    """``{file offset of a chunk's data: frame number}`` from an AVI file's ``idx1`` index, or None without a usable one.

    Walks the top-level RIFF chunks by their sizes (so damage inside ``movi`` does not matter), then reads the
    index entries of the video stream (``NNdc``/``NNdb``).  Offsets are relative to the ``movi`` list or absolute.
    """
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
                return None
            size = handle.seek(0, os.SEEK_END)
            pos, movi, idx1 = 12, None, None
            while pos + 8 <= size:
                handle.seek(pos)
                chunk_id, length = struct.unpack("<4sI", handle.read(8))
                if chunk_id == b"LIST" and handle.read(4) == b"movi":
                    movi = pos + 8
                elif chunk_id == b"idx1":
                    idx1 = (pos + 8, length)
                pos += 8 + length + (length & 1)
            if movi is None or idx1 is None:
                return None
            handle.seek(idx1[0])
            table = handle.read(idx1[1])
    except OSError:
        return None
    wanted = (f"{stream_index:02d}dc".encode(), f"{stream_index:02d}db".encode())
    offsets = [struct.unpack_from("<I", table, k + 8)[0] for k in range(0, len(table) - 15, 16)
               if table[k:k + 4] in wanted]
    if not offsets:
        return None
    base = movi if offsets[0] < movi else 0
    # an index entry points at the chunk header; FFmpeg's packet position is the chunk's data, 8 bytes further
    return {base + offset + 8: frame for frame, offset in enumerate(offsets)}
