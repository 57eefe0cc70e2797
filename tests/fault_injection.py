"""Fault injection: run every ``memae`` command against a table of bad inputs and report how each one ends.

For each case it records the exit code, whether stderr was one ``Error:`` line or a traceback, whether a warning
line was printed, and which files were left behind.  A case fails when it shows

* a traceback (any exception escaping the CLI, or ``Traceback`` on stderr),
* a silent exit 0 on damaged input (no ``Warning:`` line), or an exit 0 where an error is due,
* an error that is not exactly one ``Error: ...`` line,
* a half-written file (``*.tmp``) or, after an error, any output file at all.

Run it directly (``python tests/fault_injection.py``, exit 1 if any case fails) or through
``tests/test_fault_injection.py``.  The commands run in this process (``memae.cli.main.main``), which is what the
console script calls, so the whole table takes seconds; ``--subprocess`` runs each as ``python -m memae`` instead.
The inputs are tiny files written into a temporary folder; the checkpoints are untrained models.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

UNWRITABLE = "/proc/memae-fault-injection/out"  # cannot be created, even by root


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: str  # "error": exit 1, one line; "damaged": an error line or a warning line, never silent; "ok": exit 0;
    # "clean": a sound file, exit 0 and no warning (a false damage report is a failure too)
    same_as: str | None = None  # another case whose --out CSV must hold the same scores (one input, two forms)


@dataclass
class Outcome:
    case: Case
    exit_code: int
    one_line: bool
    traceback: bool
    warned: bool
    leftovers: list[str] = field(default_factory=list)
    stderr: str = ""
    scores: list[str] | None = None  # the "score" column of the --out CSV, for same_as
    mismatch: str | None = None

    @property
    def problems(self) -> list[str]:
        found = [self.mismatch] if self.mismatch else []
        if self.traceback:
            found.append("traceback")
        if self.case.expect == "ok" and self.exit_code != 0:
            found.append("exit code not 0")
        if self.case.expect == "error" and self.exit_code == 0:
            found.append("exit 0 where an error is due")
        if self.case.expect == "damaged" and self.exit_code == 0 and not self.warned:
            found.append("silent exit 0 on damaged input")
        if self.case.expect == "clean" and (self.exit_code != 0 or self.warned):
            found.append("a sound file was reported as damaged or failed")
        if self.exit_code != 0 and not self.one_line:
            found.append("error is not one line")
        if self.leftovers:
            found.append("files left behind: " + ", ".join(self.leftovers))
        return found


# ---------------------------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------------------------


def _table(path: Path, n: int = 40, labels=("0", "0", "1"), edit=None) -> Path:
    rng = np.random.default_rng(0)
    lines = ["a,b,label"] + [f"{rng.normal():.4f},{rng.normal():.4f},{labels[i % len(labels)]}" for i in range(n)]
    if edit:
        lines = edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def _video(path: Path, n: int = 40) -> Path:
    import av

    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width = stream.height = 24
        stream.pix_fmt = "gray"
        for i in range(n):
            image = np.full((24, 24), 20 + 4 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="gray")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _bframe_video(path: Path, first_pts: int = 0, n: int = 40) -> Path:
    """An ordinary mpeg4 AVI with B-frames (timestamps then arrive out of order), starting at ``first_pts``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 24
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"bf": "2"}
        stream.codec_context.max_b_frames = 2
        for i in range(n):
            image = np.zeros((24, 24, 3), np.uint8)
            image[:, (2 * i) % 24] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts = first_pts + i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_inputs(root: Path) -> dict[str, Path]:
    """Write every bad (and the few good) inputs the cases use; returns them by name."""
    import torch

    from memae.models import build_model
    from memae.training import save_checkpoint

    root.mkdir(parents=True, exist_ok=True)
    p: dict[str, Path] = {}
    torch.manual_seed(0)
    p["image_ckpt"] = save_checkpoint(root / "digits.pt", build_model("digits", "memae"),
                                      config={"data": {"dataset": "digits"}}, extra={"error": "mse"})
    p["video_ckpt"] = save_checkpoint(root / "video.pt", build_model("video", "memae", input_size=(8, 24, 24),
                                                                     width=0.25, num_slots=20),
                                      config={"score": {"error": "mse", "mode": "center"}})
    full = p["image_ckpt"].read_bytes()
    (root / "cut.pt").write_bytes(full[: len(full) // 2])
    (root / "random.pt").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (root / "empty.pt").write_bytes(b"")

    class Payload:  # what a malicious checkpoint carries: a callable run on unpickling
        def __reduce__(self):
            return (os.getcwd, ())

    torch.save({"format": "memae-checkpoint-v1", "x": Payload()}, root / "pickled.pt")
    for name in ("cut", "random", "empty", "pickled"):
        p[f"{name}_ckpt"] = root / f"{name}.pt"

    # a table checkpoint with its fitted preprocessing, as `memae train --dataset table` stores it
    import pandas as pd

    from memae.data.tables import TablePreprocessor

    rows = pd.read_csv(_table(root / "rows.csv")).drop(columns=["label"])
    rows = rows.assign(b=rows["b"] * 50 + 100)  # unlike a standardised column: skipping the preprocessing shows
    rows.to_csv(root / "rows.csv", index=False)
    np.save(root / "rows.npy", rows.to_numpy())
    pre = TablePreprocessor().fit(rows)
    p["table_ckpt"] = save_checkpoint(root / "table.pt", build_model("mlp", "memae", in_features=2),
                                      extra={"error": "mse", "threshold": 1.0, "preprocessor": pre.state_dict()})
    p.update(rows_csv=root / "rows.csv", rows_npy=root / "rows.npy")
    (root / "text.pt").write_text("hello\n")  # echo hello > x.pt
    p["text_ckpt"] = root / "text.pt"
    _table(root / "tiny.csv", n=12)

    p["tiny_table"] = root / "tiny.csv"
    p["bm_table"] = _table(root / "bm.csv", labels=("B", "M"))
    p["stray_table"] = _table(root / "stray.csv", edit=lambda lines: lines[:9] + ["oops,0.1,0"] + lines[10:])
    p["nan_table"] = _table(root / "nan.csv", edit=lambda lines: lines[:30] + [",0.1,0"] + lines[31:])
    p["inf_table"] = _table(root / "inf.csv", edit=lambda lines: lines[:20] + ["inf,0.1,0"] + lines[21:])
    p["no_label_values"] = _table(root / "nolabel.csv", edit=lambda lines: lines[:5] + ["0.1,0.2,"] + lines[6:])
    (root / "broken.yaml").write_text("model: {architecture: [digits\n")
    p["broken_yaml"] = root / "broken.yaml"
    np.save(root / "wrong_shape.npy", np.zeros((3, 28, 28), np.float32))
    np.save(root / "nan.npy", np.full((3, 1, 8, 8), np.nan, np.float32))
    (root / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    p.update(wrong_shape=root / "wrong_shape.npy", nan_npy=root / "nan.npy", corrupt_npy=root / "corrupt.npy")
    (root / "empty_folder").mkdir(exist_ok=True)
    p["empty_folder"] = root / "empty_folder"
    (root / "a_folder").mkdir(exist_ok=True)
    p["a_folder"] = root / "a_folder"

    video = _video(root / "good.mkv").read_bytes()
    for share in (0.3, 0.6):
        (root / f"cut{int(share * 100)}.mkv").write_bytes(video[: int(len(video) * share)])
        p[f"cut{int(share * 100)}_video"] = root / f"cut{int(share * 100)}.mkv"
    noisy = bytearray(video)
    start, size = len(video) // 2, len(video) // 10
    noisy[start:start + size] = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()
    (root / "noise.mkv").write_bytes(bytes(noisy))
    p["noise_video"] = root / "noise.mkv"
    (root / "text.mp4").write_text("not a video\n")
    p["text_video"] = root / "text.mp4"
    p["good_video"] = root / "good.mkv"
    p["bframe_video"] = _bframe_video(root / "bframes.avi")
    p["pts1_video"] = _bframe_video(root / "pts1.mkv", first_pts=1)
    return p


def cases(p: dict[str, Path], out: Path) -> list[Case]:
    """The table of bad inputs: every command, ``out`` is where outputs may go (checked for leftovers)."""
    train = ["train", "--epochs", "1", "--set", "train.progress=false", "--out", str(out / "runs")]
    table = ["--dataset", "table", "--label-column", "label"]
    sv = ["score-video", "--no-progress", "--device", "cpu"]
    return [
        Case("train: labels B/M", [*train, *table, "--data-root", str(p["bm_table"])], "error"),
        Case("train: stray string in a numeric column", [*train, *table, "--data-root", str(p["stray_table"])],
             "error"),
        Case("train: empty cell (NaN)", [*train, *table, "--data-root", str(p["nan_table"])], "error"),
        Case("train: inf", [*train, *table, "--data-root", str(p["inf_table"])], "error"),
        Case("train: missing label", [*train, *table, "--data-root", str(p["no_label_values"])], "error"),
        Case("train: num_slots=lots", [*train, "--set", "model.options.num_slots=lots"], "error"),
        Case("train: num_slots=2.5", [*train, "--set", "model.options.num_slots=2.5"], "error"),
        Case("train: unknown key", [*train, "--set", "train.epocs=3"], "error"),
        Case("train: missing config", [*train, "--config", str(out / "nope.yaml")], "error"),
        Case("train: broken YAML", [*train, "--config", str(p["broken_yaml"])], "error"),
        Case("train: unwritable --out", ["train", "--epochs", "1", "--out", UNWRITABLE], "error"),
        Case("train: --resume of no run", ["train", "--resume", str(out / "no-run")], "error"),
        Case("evaluate: truncated checkpoint", ["evaluate", str(p["cut_ckpt"]), "--out", str(out)], "error"),
        Case("evaluate: random bytes", ["evaluate", str(p["random_ckpt"]), "--out", str(out)], "error"),
        Case("evaluate: empty file", ["evaluate", str(p["empty_ckpt"]), "--out", str(out)], "error"),
        Case("evaluate: pickle payload", ["evaluate", str(p["pickled_ckpt"]), "--out", str(out)], "error"),
        Case("evaluate: missing checkpoint", ["evaluate", str(out / "none.pt"), "--out", str(out)], "error"),
        Case("score: (N, 28, 28) for an 8x8 model", ["score", str(p["image_ckpt"]), str(p["wrong_shape"]),
                                                     "--out", str(out / "s.csv")], "error"),
        Case("score: NaN samples", ["score", str(p["image_ckpt"]), str(p["nan_npy"]), "--out", str(out / "s.csv")],
             "error"),
        Case("score: corrupt .npy", ["score", str(p["image_ckpt"]), str(p["corrupt_npy"]),
                                     "--out", str(out / "s.csv")], "error"),
        Case("score: empty image folder", ["score", str(p["image_ckpt"]), str(p["empty_folder"]),
                                           "--out", str(out / "s.csv")], "error"),
        Case("score: --out is a folder", ["score", str(p["image_ckpt"]), str(p["nan_npy"]), "--out",
                                          str(p["a_folder"])], "error"),
        Case("score: truncated checkpoint", ["score", str(p["cut_ckpt"]), str(p["nan_npy"]),
                                             "--out", str(out / "s.csv")], "error"),
        Case("score: a text file named .pt", ["score", str(p["text_ckpt"]), str(p["rows_csv"]),
                                              "--out", str(out / "s.csv")], "error"),
        Case("score: table as CSV", ["score", str(p["table_ckpt"]), str(p["rows_csv"]), "--out", str(out / "c.csv")],
             "ok"),
        Case("score: the same rows as .npy", ["score", str(p["table_ckpt"]), str(p["rows_npy"]),
                                              "--out", str(out / "n.csv")], "ok", same_as="score: table as CSV"),
        Case("score: .npy too wide for the table model", ["score", str(p["table_ckpt"]), str(p["wrong_shape"]),
                                                          "--out", str(out / "s.csv")], "error"),
        Case("train: 12-row table", [*train, *table, "--data-root", str(p["tiny_table"])], "damaged"),
        Case("score-video: cut at 30 %", [*sv, str(p["video_ckpt"]), str(p["cut30_video"]),
                                          "--out", str(out / "v1.csv")], "damaged"),
        Case("score-video: cut at 60 %", [*sv, str(p["video_ckpt"]), str(p["cut60_video"]),
                                          "--out", str(out / "v2.csv")], "damaged"),
        Case("score-video: random bytes inside", [*sv, str(p["video_ckpt"]), str(p["noise_video"]),
                                                  "--out", str(out / "v3.csv")], "damaged"),
        Case("score-video: --on-damage error", [*sv, str(p["video_ckpt"]), str(p["cut60_video"]),
                                                "--on-damage", "error", "--out", str(out / "v4.csv")], "error"),
        Case("score-video: unwritable --plot", [*sv, str(p["video_ckpt"]), str(p["good_video"]),
                                                "--out", str(out / "v5.csv"), "--plot", UNWRITABLE + ".png"], "error"),
        Case("score-video: text file named .mp4", [*sv, str(p["video_ckpt"]), str(p["text_video"]),
                                                   "--out", str(out / "v6.csv")], "error"),
        Case("score-video: empty folder", [*sv, str(p["video_ckpt"]), str(p["empty_folder"]),
                                           "--out", str(out / "v7.csv")], "error"),
        Case("score-video: image checkpoint", [*sv, str(p["image_ckpt"]), str(p["good_video"]),
                                               "--out", str(out / "v8.csv")], "error"),
        Case("score-video: B-frame AVI (clean)", [*sv, str(p["video_ckpt"]), str(p["bframe_video"]),
                                                 "--out", str(out / "v9.csv")], "clean"),
        Case("score-video: first pts 1 (clean)", [*sv, str(p["video_ckpt"]), str(p["pts1_video"]),
                                                  "--out", str(out / "v10.csv")], "clean"),
        Case("reproduce: unknown experiment", ["reproduce", "table99", "--out", str(out)], "error"),
    ]


# ---------------------------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------------------------


def _files(folder: Path) -> set[Path]:
    return {f for f in folder.rglob("*") if f.is_file()} if folder.exists() else set()


def run_case(case: Case, out: Path, use_subprocess: bool = False) -> Outcome:
    before = _files(out)
    if use_subprocess:
        env = {k: v for k, v in os.environ.items() if k != "MEMAE_DEBUG"}
        proc = subprocess.run([sys.executable, "-m", "memae", *case.argv], capture_output=True, text=True, env=env,
                              timeout=600)
        code, err, crashed = proc.returncode, proc.stderr, False
    else:
        from memae.cli.main import main

        stdout, stderr = io.StringIO(), io.StringIO()
        crashed = False
        previous = os.environ.pop("MEMAE_DEBUG", None)
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = int(main(case.argv) or 0)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - an escaping exception is exactly what this script looks for
            code, crashed = 1, True
            stderr.write(traceback.format_exc())
        finally:
            if previous is not None:
                os.environ["MEMAE_DEBUG"] = previous
        err = stderr.getvalue()
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("Warning: ")]
    one_line = code == 0 or (len(errors) == 1 and errors[0].startswith("Error: "))
    new = sorted(_files(out) - before)
    scores = None
    if code == 0 and "--out" in case.argv:
        target = Path(case.argv[case.argv.index("--out") + 1])
        if target.suffix == ".csv" and target.is_file():
            import csv

            scores = [row.get("score", "") for row in csv.DictReader(open(target))]
    leftovers = [str(f.relative_to(out)) for f in new if f.name.endswith(".tmp") or f.name.startswith(".")]
    if code != 0:  # a failed command leaves nothing at all
        leftovers = [str(f.relative_to(out)) for f in new]
    for f in new:  # keep the next case's view clean
        f.unlink()
    return Outcome(case, code, one_line, crashed or "Traceback" in err, any(l.startswith("Warning: ") for l in lines),
                   leftovers, err, scores)


def run_all(workdir: Path, use_subprocess: bool = False) -> list[Outcome]:
    inputs = make_inputs(workdir / "inputs")
    out = workdir / "out"
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for case in cases(inputs, out):
        outcomes.append(run_case(case, out, use_subprocess))
        if case.same_as is not None:
            other = next(o for o in outcomes if o.case.name == case.same_as)
            if not other.scores or outcomes[-1].scores != other.scores:
                outcomes[-1].mismatch = f"scores differ from '{case.same_as}'"
        for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()  # empty folders are not results; a new run folder must not outlive a failure
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    rows = ["| case | exit | stderr | warning | left behind | verdict |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        kind = "traceback" if o.traceback else ("one line" if o.one_line else "several lines")
        verdict = "; ".join(o.problems) or "ok"
        rows.append(f"| {o.case.name} | {o.exit_code} | {kind} | {'yes' if o.warned else 'no'} | "
                    f"{', '.join(o.leftovers) or '-'} | {verdict} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subprocess", action="store_true", help="run each case as 'python -m memae' (slower)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memae-faults-") as tmp:
        outcomes = run_all(Path(tmp), args.subprocess)
    print(report(outcomes))
    failed = [o for o in outcomes if o.problems]
    print(f"\n{len(outcomes) - len(failed)} of {len(outcomes)} cases ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
