"""What a damaged video file lost: :class:`DamageReport` (the frames a file promised but did not deliver) and the
gap finding behind it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DamageReport"]


@dataclass
class DamageReport:
    """Frames a video file promised (container frame count, duration and timestamps) but did not deliver.

    ``gaps`` holds ``(first, last)`` source frame indices (inclusive, 0-based) of each run of lost frames.
    """

    name: str
    expected: int
    decoded: int
    gaps: list[tuple[int, int]]
    decode_errors: int = 0
    note: str = ""

    @property
    def lost(self) -> int:
        return sum(b - a + 1 for a, b in self.gaps)

    def summary(self, limit: int = 5) -> str:
        """One line: ``cut.avi: 508 of 795 frames lost (frames 287-794: 508)``."""
        parts = [f"{a}-{b}: {b - a + 1}" if b > a else f"{a}: 1" for a, b in self.gaps[:limit]]
        more = f", and {len(self.gaps) - limit} more gaps" if len(self.gaps) > limit else ""
        extra = f"; {self.decode_errors} undecodable packet(s)" if self.decode_errors else ""
        note = f"; {self.note}" if self.note else ""
        return (f"{self.name} is damaged: {self.lost} of {self.expected} frames lost (frames {', '.join(parts)}{more})"
                f"{extra}{note}")


def _damage_report(name: str, indices: list[int], expected: int | None, decode_errors: int,
                   note: str) -> DamageReport | None:
    """Gaps between consecutive decoded indices, at the start and up to ``expected``; None if nothing is lost."""
    gaps: list[tuple[int, int]] = []
    last = -1
    for index in indices:
        if index > last + 1:
            gaps.append((last + 1, index - 1))
        last = index
    total = max(expected or 0, last + 1)
    if total > last + 1:
        gaps.append((last + 1, total - 1))
    if not gaps and not decode_errors and not note:
        return None
    return DamageReport(name, total, len(indices), gaps, decode_errors, note)
