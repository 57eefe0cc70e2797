"""Per-run result rows kept in ``runs.csv`` so an interrupted reproduction resumes where it stopped."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..io import write_json
from .runner import git_commit, write_csv

if TYPE_CHECKING:
    from . import ReproduceOptions

__all__ = ["RunLog", "remember_args", "run_commits"]

ARG_KEYS = ("dataset", "data_root", "methods", "seeds", "classes", "epochs", "device", "quick", "overrides", "preset")


def remember_args(args: ReproduceOptions, run_dir: Path) -> ReproduceOptions:
    """Store a reproduction's arguments in ``run.json``; on ``--resume`` fill every argument not given again from
    it, so a resumed run continues the same experiment (same dataset, methods, seeds) rather than a default one."""
    path = Path(run_dir) / "run.json"
    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for key in ARG_KEYS:
        if getattr(args, key, None) in (None, [], False) and key in stored:
            setattr(args, key, stored[key])
    # the code that ran: one commit per invocation (a resumed run may span several)
    commits = list(stored.get("commits", [])) + [git_commit()]
    write_json(path, {**{key: getattr(args, key, None) for key in ARG_KEYS}, "commits": commits})
    return args


def run_commits(run_dir: Path) -> list[str] | None:
    path = Path(run_dir) / "run.json"
    return json.loads(path.read_text(encoding="utf-8")).get("commits") if path.is_file() else None


class RunLog:
    """Rows keyed by ``key_fields`` (e.g. method, seed, class); ``add`` rewrites ``runs.csv`` atomically."""

    def __init__(self, run_dir: Path, key_fields: tuple[str, ...], int_fields: tuple[str, ...] = ("seed",)) -> None:
        self.path = Path(run_dir) / "runs.csv"
        self.key_fields = key_fields
        self.rows: list[dict[str, Any]] = []
        if self.path.is_file():
            with open(self.path, encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
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

    def methods(self, order: tuple[str, ...]) -> list[str]:
        """Methods with rows, in ``order`` first, then any others in first-seen order."""
        seen = list(dict.fromkeys(r["method"] for r in self.rows))
        return [m for m in order if m in seen] + [m for m in seen if m not in order]

    def select(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]
