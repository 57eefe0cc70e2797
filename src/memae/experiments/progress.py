"""Per-run result rows kept in ``runs.csv`` so an interrupted reproduction resumes where it stopped."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .runner import write_csv

__all__ = ["RunLog"]


class RunLog:
    """Rows keyed by ``key_fields`` (e.g. method, seed, class); ``add`` rewrites ``runs.csv`` atomically."""

    def __init__(self, run_dir: Path, key_fields: tuple[str, ...], int_fields: tuple[str, ...] = ("seed",)) -> None:
        self.path = Path(run_dir) / "runs.csv"
        self.key_fields = key_fields
        self.rows: list[dict[str, Any]] = []
        if self.path.is_file():
            for row in csv.DictReader(open(self.path, encoding="utf-8")):
                self.rows.append({k: self._parse(k, v, int_fields) for k, v in row.items()})

    @staticmethod
    def _parse(key: str, value: str, int_fields: tuple[str, ...]) -> Any:
        if key in int_fields:
            return int(value)
        try:
            return float(value)
        except ValueError:
            return value

    def key(self, row: dict[str, Any]) -> tuple:
        return tuple(row[k] for k in self.key_fields)

    def done(self, **key: Any) -> bool:
        wanted = tuple(key[k] for k in self.key_fields)
        return any(self.key(r) == wanted for r in self.rows)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        write_csv(self.path, self.rows)

    def select(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]
