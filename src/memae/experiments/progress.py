"""One progress store for every ``memae reproduce`` experiment: what a run folder holds so that an interrupted
reproduction resumes where it stopped, and so that several processes can share one run.

A run folder holds:

- ``run.json``: ``{experiment, command, options, commits, started}`` (plus keys of the experiment's own, such as
  the video experiments' ``units``): the experiment, the ``memae reproduce`` command that started it, the
  arguments a ``--resume`` needs again, the commit of every invocation and when the run began.  Files written by
  older versions (the tables' flat arguments with ``commits``; the video layout ``{experiment, command, units,
  quick, started}``) are read as well and rewritten in this layout on resume.
- ``log.txt``: timestamped progress lines, also logged (the ``memae`` command shows them on stderr).
- ``.{unit_key}.lock``: locked (an OS file lock, :mod:`filelock`) by the process working on that unit of work, so
  that a second ``memae reproduce NAME --resume RUN`` takes the next unfinished unit instead of repeating one.  The
  operating system drops the lock when its process ends, crashed or not, so no stale lock is ever taken over; the
  empty file stays (unlinking it on release would let two processes lock two different inodes of one name).
- ``runs.csv`` (the tables): one result row per finished unit, merged under a short lock so that two processes
  never lose each other's rows.

:class:`RunStore` manages the first three, :class:`ResultRows` the last; :func:`command_line` rebuilds the command.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import json
import logging
import shlex
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from filelock import FileLock, Timeout

from ..io import write_csv, write_json
from .provenance import git_commit

if TYPE_CHECKING:
    from . import ReproduceOptions

__all__ = ["OPTION_KEYS", "RunStore", "RunLogger", "ResultRows", "command_line", "read_run_state"]

# The reproduce arguments a resumed run takes from run.json when they are not given again.
OPTION_KEYS = ("dataset", "data_root", "methods", "seeds", "classes", "epochs", "device", "quick", "overrides", "preset")
ARG_KEYS = OPTION_KEYS  # the name before the store
# ReproduceOptions field -> its command-line flag, in the order command_line writes them
FLAGS = (("dataset", "--dataset"), ("data_root", "--data-root"), ("preset", "--preset"), ("methods", "--methods"),
         ("seeds", "--seeds"), ("classes", "--classes"), ("epochs", "--epochs"), ("device", "--device"),
         ("out", "--out"), ("resume", "--resume"), ("reuse", "--reuse"))
LOCK_WAIT_SECONDS = 60.0  # a store file (run.json, runs.csv) is locked only while it is read and rewritten


def command_line(options: ReproduceOptions, ignored: tuple[str, ...] = ()) -> str:
    """The ``memae reproduce`` command equivalent to ``options``, however it was launched (CLI or Python API).

    ``ignored``: option fields the experiment does not read in this call (left out so the line does not mislead);
    ``--out`` is always left out when resuming, since the run folder is given.
    """
    parts = ["memae", "reproduce", options.experiment]
    for attr, flag in FLAGS:
        value = getattr(options, attr, None)
        if value in (None, "", []) or attr in ignored or (attr == "out" and getattr(options, "resume", None)):
            continue
        for item in value if isinstance(value, list) else [value]:
            parts += [flag, str(item)]
    if getattr(options, "quick", False) and "quick" not in ignored:
        parts.append("--quick")
    for item in getattr(options, "overrides", None) or []:
        parts += ["--set", item]
    return shlex.join(parts)


logger = logging.getLogger(__name__)


class RunLogger:
    """Timestamped lines to ``log.txt``, each also an INFO record of this module's logger (the ``memae`` command
    shows those on stderr, above any progress bar)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._held: list[str] = []

    def __call__(self, message: str, *, hold: bool = False) -> None:
        """Log ``message``; ``hold=True`` writes it to the file now but logs it only with the next line, so that a
        run which fails before its first step shows the user nothing but the one-line error."""
        line = f"{_dt.datetime.now():%Y-%m-%d %H:%M:%S} {message}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:  # appends of whole lines: safe for two processes
            handle.write(line + "\n")
        if hold:
            self._held.append(line)
            return
        for shown in [*self._held, line]:
            logger.info("%s", shown)  # timestamped as in log.txt, also for a held line shown later
        self._held.clear()


@contextlib.contextmanager
def _locked(lock: Path, wait: float) -> Iterator[bool]:
    """Lock ``lock`` (waiting up to ``wait`` seconds); yields whether this process holds it (released on exit).

    Each call uses its own lock object, so that two stores in one process exclude each other as two processes do.
    """
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = FileLock(lock)
    try:
        handle.acquire(timeout=wait)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        handle.release()


@contextlib.contextmanager
def _waiting_for(lock: Path, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold ``lock`` for a short read-modify-write, waiting while another process holds it."""
    with _locked(lock, timeout) as mine:
        if not mine:
            raise TimeoutError(f"another memae process has held {lock} for over {timeout:.0f} s")
        yield


def _experiment_from_folder(run_dir: Path) -> str | None:
    """The experiment a run folder's name starts with (``table1-mnist-20240101-120000``), for the old table
    layout of run.json, which did not name its experiment."""
    from . import EXPERIMENTS

    return next((name for name in EXPERIMENTS if run_dir.name.startswith(f"{name}-")), None)


def read_run_state(run_dir: Path, experiment: str | None = None) -> dict[str, Any]:
    """``run_dir/run.json`` in the current layout, whichever layout wrote it (missing keys filled, nothing written).

    Layouts read: the current one; the tables' flat ``{dataset, ..., preset, commits}``; the video experiments'
    ``{experiment, command, units, quick, started}``.  ``experiment``: the experiment expected (a ``ConfigError``
    if the run is of another one).
    """
    run_dir = Path(run_dir)
    path = run_dir / "run.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"cannot resume: {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(stored, dict):
            raise ConfigError(f"cannot resume: {path} does not hold a run's state")
    elif (run_dir / "runs.csv").is_file():
        stored = {}  # a table run from before run.json existed (or runs.csv files merged by hand): its rows count
    else:
        raise ConfigError(f"cannot resume: {path} does not exist; pass the run folder of 'memae reproduce'")
    if "options" in stored:  # the current layout
        options = dict(stored["options"] or {})
    elif "units" in stored:  # the video layout: its settings are in config.yaml
        options = {"quick": bool(stored.get("quick", False))}
    else:  # the tables' layout: the arguments at the top level
        options = {key: stored[key] for key in OPTION_KEYS if key in stored}
    found = stored.get("experiment") or _experiment_from_folder(run_dir)
    if experiment is not None and found is not None and found != experiment:
        raise ConfigError(f"{run_dir} holds a {found} run, not {experiment}; resume it with "
                          f"'memae reproduce {found} --resume {run_dir}'")
    extra = {k: v for k, v in stored.items()
             if k not in ("experiment", "command", "options", "commits", "started", *OPTION_KEYS)}
    if "units" in stored and "quick" in stored:
        extra["quick"] = stored["quick"]  # the video layout's own key: kept for the code that wrote it
    return {"experiment": found or experiment, "command": stored.get("command"), "options": options,
            "commits": list(stored.get("commits") or []), "started": stored.get("started"), **extra}


class RunStore:
    """The state of one reproduction run in ``run_dir``: ``run.json``, ``log.txt`` and per-unit locks.

    Start or continue a run with :meth:`open` (or :meth:`create` / :meth:`resume`), then :meth:`log_invocation`;
    a store made directly, ``RunStore(run_dir, experiment)``, only logs and claims (the Python API of a table,
    with no run.json).

    Units of work are named by a key (``memae-seed0``, ``ae-seed1-class3``).  :meth:`take` gives a unit to exactly
    one process: the one that holds its lock ``.{key}.lock`` and finds it not yet done.  What "done" means is the
    experiment's: by default ``run_dir/key/metrics.json`` exists (the video units); the tables pass their rows.
    """

    def __init__(self, run_dir: Path, experiment: str, *, command: str | None = None,
                 options: ReproduceOptions | None = None, commits: list[str] | None = None,
                 started: str | None = None, extra: dict[str, Any] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.experiment = experiment
        self.command = command
        self.options = options  # this invocation's options, with those not given again taken from run.json
        self.commits = list(commits or [])
        self.started = started
        self.extra = dict(extra or {})  # the experiment's own keys of run.json (video: units)
        self.log = RunLogger(self.run_dir / "log.txt")
        self.invocation: str | None = None  # a resumed run: this invocation's command, as typed

    def log_invocation(self) -> None:
        """The first log line of this invocation: the command, run folder and commit (called once the arguments
        are checked, so that a mistake leaves no log line about a run that never starts)."""
        commit = self.commits[-1] if self.commits else git_commit()
        if self.resumed:
            self.log(f"resuming {self.experiment} in {self.run_dir}: {self.invocation}; commit {commit}", hold=True)
        else:
            self.log(f"{self.command or self.experiment}\nrun folder {self.run_dir}; commit {commit}", hold=True)

    @property
    def resumed(self) -> bool:
        """Whether this invocation continues an earlier one."""
        return self.invocation is not None

    # -- starting and resuming ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, run_dir: Path, options: ReproduceOptions, **extra: Any) -> RunStore:
        """:meth:`resume` if ``options.resume`` is set, else :meth:`create` (``extra``: keys for a new run.json)."""
        return cls.resume(run_dir, options) if options.resume else cls.create(run_dir, options, **extra)

    @classmethod
    def create(cls, run_dir: Path, options: ReproduceOptions, **extra: Any) -> RunStore:
        """Start a new run in ``run_dir``: write its ``run.json`` (``extra``: the experiment's own keys)."""
        store = cls(run_dir, options.experiment, command=command_line(options), options=options,
                    commits=[git_commit()], started=_dt.datetime.now().isoformat(timespec="seconds"), extra=extra)
        store._write()  # a new folder: no other process knows it yet
        return store

    @classmethod
    def resume(cls, run_dir: Path, options: ReproduceOptions, ignored: tuple[str, ...] = ()) -> RunStore:
        """Continue the run in ``run_dir`` (run.json of any layout): arguments not given again are taken from it,
        this invocation's commit is added, run.json is rewritten in the current layout.

        ``ignored``: option fields the experiment does not read when resuming (left out of the logged command).
        Raises ``ConfigError`` if ``run_dir`` holds no run or a run of another experiment.
        """
        run_dir = Path(run_dir)
        invocation = command_line(options, ignored)  # as typed, before run.json fills the rest
        read_run_state(run_dir, options.experiment)  # fail before taking any lock or writing anything
        # two processes resuming at once must both add their commit: read and rewrite under a lock
        with _waiting_for(run_dir / ".run.json.lock"):
            state = read_run_state(run_dir, options.experiment)
            given = {key: getattr(options, key, None) for key in OPTION_KEYS}
            filled = {key: value for key, value in state["options"].items()
                      if key in OPTION_KEYS and given[key] in (None, [], False)}
            options = replace(options, **filled)
            command = state["command"] or command_line(replace(options, resume=None, reuse=[],
                                                                out=str(run_dir.parent)))
            extra = {k: v for k, v in state.items() if k not in ("experiment", "command", "options", "commits", "started")}
            store = cls(run_dir, options.experiment, command=command, options=options,
                        commits=[*state["commits"], git_commit()], started=state["started"], extra=extra)
            store.invocation = invocation
            store._write()
        return store

    def _write(self) -> None:
        options = {key: getattr(self.options, key, None) for key in OPTION_KEYS} if self.options else {}
        write_json(self.run_dir / "run.json", {"experiment": self.experiment, "command": self.command,
                                               "options": options, "commits": self.commits,
                                               "started": self.started, **self.extra})

    # -- units of work ------------------------------------------------------------------------------------------

    def unit_dir(self, unit_key: str) -> Path:
        return self.run_dir / unit_key

    def lock_path(self, unit_key: str) -> Path:
        return self.run_dir / f".{unit_key}.lock"

    def done(self, unit_key: str) -> bool:
        """The default notion of a finished unit: its folder holds ``metrics.json`` (written last)."""
        return (self.unit_dir(unit_key) / "metrics.json").is_file()

    @contextlib.contextmanager
    def claim(self, unit_key: str) -> Iterator[bool]:
        """The unit's lock: True if this process now holds it (released at the end of the block)."""
        with _locked(self.lock_path(unit_key), wait=0.0) as mine:
            yield mine

    @contextlib.contextmanager
    def take(self, unit_key: str, done: Callable[[], bool] | None = None, *, say_done: bool = True) -> Iterator[bool]:
        """Whether this process should work on the unit now: True while it holds the unit's lock and the unit is
        not done (``done``: default :meth:`done` of the key), checked again after the claim, since another
        process may have finished it in between.  Logs why a unit is skipped (finished ones only if
        ``say_done``)."""
        is_done = done or (lambda: self.done(unit_key))
        if is_done():
            if say_done:
                self.log(f"{unit_key}: already done, skipping")
            yield False
            return
        with self.claim(unit_key) as mine:
            if not mine:
                self.log(f"{unit_key}: being run by another process, skipping")
                yield False
            else:
                yield not is_done()


class ResultRows:
    """The result rows of a table run in ``runs.csv``, one per finished unit, keyed by ``key_fields``.

    :meth:`add` re-reads the file under a short lock and rewrites it atomically with the new row, so that two
    processes sharing the run keep each other's rows; the rows of the file are re-read whenever it changed.
    """

    def __init__(self, run_dir: Path, key_fields: tuple[str, ...], int_fields: tuple[str, ...] = ("seed",)) -> None:
        self.path = Path(run_dir) / "runs.csv"
        self.lock = Path(run_dir) / ".runs.csv.lock"
        self.key_fields = key_fields
        self.int_fields = int_fields
        self._rows: list[dict[str, Any]] = []
        self._seen: tuple[int, int, int] | None = None  # (inode, mtime_ns, size) of the file last read
        self._refresh()

    @property
    def rows(self) -> list[dict[str, Any]]:
        self._refresh()
        return self._rows

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._rows, self._seen = [], None
            return
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write renames a new file onto runs.csv
        if seen != self._seen:
            self._rows = [{k: self._parse(k, v) for k, v in row.items()} for row in self._read_raw()]
            self._seen = seen

    def _read_raw(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with open(self.path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def _parse(self, key: str, value: str) -> Any:
        if key in self.int_fields:
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

    def add(self, row: dict[str, Any]) -> bool:
        """Append ``row`` to runs.csv unless a row with its key is there already (another process finished the
        same unit); returns whether it was added."""
        with _waiting_for(self.lock):
            # the rows on disk as text, so that rows of other processes are rewritten exactly as they were written
            raw = self._read_raw()
            wanted = tuple(str(row[k]) for k in self.key_fields)
            if any(tuple(r.get(k) for k in self.key_fields) == wanted for r in raw):
                added = False
            else:
                write_csv(self.path, [*raw, row])
                added = True
        self._seen = None  # re-read on the next access, with the other processes' rows
        return added

    def methods(self, order: tuple[str, ...]) -> list[str]:
        """Methods with rows, in ``order`` first, then any others in first-seen order."""
        seen = list(dict.fromkeys(r["method"] for r in self.rows))
        return [m for m in order if m in seen] + [m for m in seen if m not in order]

    def select(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]
