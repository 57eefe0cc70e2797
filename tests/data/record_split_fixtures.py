"""Record the indices every split protocol drew before issue 21 moved them into ``memae.data.splits``.

Run once, at commit ee130fe (the last commit with the eight separate implementations), from the repository root:

    OMP_NUM_THREADS=1 PYTHONPATH=src python tests/data/record_split_fixtures.py

It calls the old code itself (private helpers included, with the preprocessors replaced by recorders that keep the
row indices they are given), so the fixtures are what that code drew, not a re-implementation of it.  It writes

* ``tests/data/splits/synthetic.npz``: the full index arrays of small synthetic calls (key ``<case>/<part>``);
* ``tests/data/splits/real.json``: for the real datasets (MNIST pooled and official-test, KDD Cup 99, the ADBench
  tables), the size and SHA-256 of every index array (int64 little-endian bytes; bool masks as uint8).

``tests/test_splits.py`` checks ``memae.data.splits`` against both files, calling the new functions directly and
also through this script's recorders, whose call sites (``_table_data``, ``kdd_experiment_data``,
``MemAEDetector._train``, ``split_table``, ...) still exist after issue 21; only ``split_train_val`` is gone, for which
the recorder falls back to what its call site does now.  ``git show ee130fe`` has the old code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent / "splits"
DATASETS = Path(os.environ.get("MEMAE_DATASETS", Path(__file__).resolve().parents[3] / "shared" / "datasets"))


def digest(a: np.ndarray) -> dict:
    a = np.asarray(a)
    a = a.astype(np.uint8) if a.dtype == bool else a.astype("<i8")
    return {"n": int(a.size), "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}


def synthetic_labels(n: int, classes: int, seed: int) -> np.ndarray:
    return np.random.default_rng(1000 + seed).integers(0, classes, n).astype(np.int64)


def synthetic_flags(n: int, share: float, seed: int) -> np.ndarray:
    return np.random.default_rng(2000 + seed).random(n) < share


# -- the old code, one recorder per implementation --------------------------------------------------------------

class RowRecorder:
    """Stands in for TablePreprocessor / KDDPreprocessor: keeps the rows it is fitted on and asked to transform."""

    calls: list = []

    def __init__(self, *args, **kwargs):
        pass

    def fit(self, frame_or_raw, rows=None):
        RowRecorder.calls.append(("fit", self._rows(frame_or_raw, rows)))
        return self

    def transform(self, frame_or_raw, rows=None):
        RowRecorder.calls.append(("transform", self._rows(frame_or_raw, rows)))
        return np.zeros((1, 1), np.float32)

    @staticmethod
    def _rows(frame_or_raw, rows):
        if rows is not None:
            return np.asarray(rows).copy()
        return np.asarray(frame_or_raw.index).copy()  # a DataFrame slice of a RangeIndex frame: its positions

    def get_feature_names_out(self):
        return ["x"]

    def state_dict(self):
        return {}


def old_one_class(labels, normal, seed, **kw):
    from memae.data.one_class import one_class_split

    s = one_class_split(labels, normal, seed, **kw)
    return {"train": s.train_idx, "val": s.val_idx, "test": s.test_idx, "test_is_anomaly": s.test_is_anomaly}


def old_official_test(train_labels, test_labels, normal, seed, **kw):
    from memae.data.one_class import official_test_split

    s = official_test_split(train_labels, test_labels, normal, seed, **kw)
    return {"train": s.train_idx, "val": s.val_idx, "test": s.test_idx, "test_is_anomaly": s.test_is_anomaly}


def old_prelabelled(is_anomaly, seed, val_fraction):
    from memae.data.experiment import _prelabelled_image_data

    x = np.arange(len(is_anomaly), dtype=np.float64)
    data = SimpleNamespace(val_fraction=val_fraction, dataset="folder")
    d = _prelabelled_image_data(data, x, is_anomaly.astype(np.int64), seed)
    return {"train": d.train.astype(np.int64), "val": d.val.astype(np.int64), "test": d.test.astype(np.int64),
            "test_is_anomaly": d.test_labels}


def old_table(is_anomaly, n, seed, val_fraction):
    """_table_data on a CSV of ``n`` rows (labelled when ``is_anomaly`` is given)."""
    import tempfile

    import memae.data.tables as tables
    from memae.data.experiment import _table_data

    with tempfile.TemporaryDirectory() as tmp:
        return _old_table(is_anomaly, n, seed, val_fraction, Path(tmp) / "t.csv", tables, _table_data)


def _old_table(is_anomaly, n, seed, val_fraction, path, tables, _table_data):
    import warnings

    lines = ["a,label" if is_anomaly is not None else "a"]
    for i in range(n):
        lines.append(f"{i},{int(is_anomaly[i])}" if is_anomaly is not None else f"{i}")
    path.write_text("\n".join(lines) + "\n")
    data = SimpleNamespace(root=str(path), dataset="table", label_column="label" if is_anomaly is not None else None,
                           val_fraction=val_fraction)
    saved = tables.TablePreprocessor
    tables.TablePreprocessor = RowRecorder
    RowRecorder.calls = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny-split warning
            _table_data(data, seed)
    finally:
        tables.TablePreprocessor = saved
    (_, train), (_, tr2), (_, val), (_, test) = RowRecorder.calls
    assert np.array_equal(train, tr2)
    return {"train": train, "val": val, "test": test}


def old_kdd(is_anomaly, seed, val_fraction, protocol):
    import memae.data.kdd as kdd
    from memae.data.experiment import kdd_experiment_data

    raw = SimpleNamespace(n_rows=len(is_anomaly), is_anomaly=is_anomaly)
    saved = kdd.KDDPreprocessor
    kdd.KDDPreprocessor = RowRecorder
    RowRecorder.calls = []
    try:
        kdd_experiment_data(raw, seed, val_fraction, protocol)
    finally:
        kdd.KDDPreprocessor = saved
    (_, scale), (_, train), (_, val), (_, test) = RowRecorder.calls
    return {"scale": scale, "train": train, "val": val, "test": test}


def old_kdd_split(is_anomaly, seed, train_fraction=0.5):
    from memae.data.kdd import kdd_split

    s = kdd_split(len(is_anomaly), is_anomaly, seed, train_fraction)
    return {"train": s.train_idx, "test": s.test_idx, "train_normal": s.train_normal_idx}


def old_video(n_frames_list, clip_len, val_fraction):
    """split_train_val on videos whose frame k holds k: (n_train, n_val) per length, n_val -1 for no validation.

    After issue 21 the call site slices each video with ``video_tail_split``'s slices instead.
    """
    try:
        from memae.experiments.video import split_train_val
    except ImportError:
        from memae.data.splits import video_tail_split

        def split_train_val(video, clip_len, val_fraction):
            train, val = video_tail_split(video.shape[0], clip_len, val_fraction)
            return video[train], None if val is None else video[val]

    out = []
    for n in n_frames_list:
        video = np.arange(n, dtype=np.int64)[:, None, None]
        train, val = split_train_val(video, clip_len, val_fraction)
        assert np.array_equal(train[:, 0, 0], np.arange(len(train)))
        if val is not None:
            assert np.array_equal(val[:, 0, 0], np.arange(len(train), n))
        out.append((len(train), -1 if val is None else len(val)))
    return {"n_train_n_val": np.asarray(out, np.int64)}


class _Stop(Exception):
    pass


def old_detector(n, seed, validation_fraction):
    """MemAEDetector._train's holdout: the Subset indices it hands to train() (in their order, unsorted)."""
    import torch
    import memae.detector as det_module
    from memae.detector import MemAEDetector

    got = {}

    def fake_train(model, train_set, val_set, config, **kwargs):
        got["train"] = np.asarray(getattr(train_set, "indices", np.arange(n)), np.int64)
        got["val"] = np.asarray(val_set.indices, np.int64) if val_set is not None else np.zeros(0, np.int64)
        raise _Stop

    det = MemAEDetector(validation_fraction=validation_fraction)
    det.model_ = None
    saved = det_module.train
    det_module.train = fake_train
    try:
        det._train(np.zeros((n, 2), np.float32), seed, torch.device("cpu"))
    except _Stop:
        pass
    finally:
        det_module.train = saved
    return got


def old_adbench(y, seed):
    """split_table's rows (in its order) with an identity scaler: column 0 of X holds the row number."""
    import sklearn.preprocessing as pre
    from memae.experiments.adbench import split_table

    class Identity:
        def fit(self, X):
            return self

        def transform(self, X):
            return X

    X = np.arange(len(y), dtype=np.float64)[:, None]
    saved = pre.MinMaxScaler
    pre.MinMaxScaler = Identity
    try:
        X_train, X_test, y_train, y_test = split_table(X, y, seed)
    finally:
        pre.MinMaxScaler = saved
    train, test = X_train[:, 0].astype(np.int64), X_test[:, 0].astype(np.int64)
    assert np.array_equal(y[train], y_train) and np.array_equal(y[test], y_test)
    return {"train": train, "test": test}


# -- the cases ----------------------------------------------------------------------------------------------------

def synthetic_specs() -> list[tuple[str, str, dict]]:
    """``(key, kind, arguments)`` of every synthetic case; ``CALL_SITES[kind](**arguments)`` draws it."""
    specs = []
    for n, classes, seed, normal, kw in [
        (300, 3, 0, 0, {}), (300, 3, 7, 1, {}), (300, 3, 8, 1, {}), (1000, 10, 0, 4, {}),
        (257, 5, 3, 2, {"val_fraction": 0.0}), (257, 5, 3, 2, {"anomaly_fraction": 0.5, "val_fraction": 0.25}),
        (90, 2, 11, 1, {"train_fraction": 0.5}), (45, 3, 2, 0, {}),
    ]:
        key = f"one_class/n{n}_k{classes}_s{seed}_c{normal}_" + "_".join(f"{k}{v}" for k, v in kw.items())
        specs.append((key, "one_class", {"labels": synthetic_labels(n, classes, seed), "normal": normal, "seed": seed,
                                         **kw}))
    for n_train, n_test, seed, normal, kw in [(300, 100, 0, 0, {}), (300, 100, 5, 2, {}),
                                              (600, 250, 1, 1, {"anomaly_fraction": 0.2, "val_fraction": 0.2})]:
        key = f"official_test/n{n_train}_{n_test}_s{seed}_c{normal}_" + "_".join(f"{k}{v}" for k, v in kw.items())
        specs.append((key, "official_test", {"train_labels": synthetic_labels(n_train, 3, seed),
                                             "test_labels": synthetic_labels(n_test, 3, seed + 50), "normal": normal,
                                             "seed": seed, **kw}))
    for n, share, seed, vf in [(60, 0.3, 0, 0.1), (61, 0.2, 4, 0.25), (25, 0.4, 1, 0.1), (200, 0.1, 9, 0.0)]:
        specs.append((f"prelabelled/n{n}_s{seed}_v{vf}", "prelabelled",
                      {"is_anomaly": synthetic_flags(n, share, seed), "seed": seed, "val_fraction": vf}))
    for n, share, seed, vf in [(100, 0.1, 0, 0.1), (51, 0.2, 3, 0.1), (50, 0.1, 1, 0.1), (250, 0.05, 2, 0.1),
                               (30, 0.0, 5, 0.25), (77, 0.3, 6, 0.0)]:
        specs.append((f"table_labelled/n{n}_s{seed}_v{vf}", "table",
                      {"is_anomaly": synthetic_flags(n, share, seed), "n": n, "seed": seed, "val_fraction": vf}))
    for n, seed, vf in [(40, 0, 0.1), (25, 2, 0.1), (15, 1, 0.5), (9, 3, 0.0)]:
        specs.append((f"table_unlabelled/n{n}_s{seed}_v{vf}", "table",
                      {"is_anomaly": None, "n": n, "seed": seed, "val_fraction": vf}))
    for n, share, seed, vf, protocol in [(400, 0.2, 0, 0.1, "paper"), (401, 0.2, 1, 0.1, "paper"),
                                         (250, 0.3, 2, 0.25, "paper"), (400, 0.2, 0, 0.1, "dagmm-code"),
                                         (333, 0.25, 7, 0.1, "dagmm-code")]:
        specs.append((f"kdd_{protocol}/n{n}_s{seed}_v{vf}", "kdd", {"is_anomaly": synthetic_flags(n, share, seed),
                                                                   "seed": seed, "val_fraction": vf,
                                                                   "protocol": protocol}))
    for n, seed, tf in [(100, 0, 0.5), (101, 3, 0.5), (37, 2, 1 / 3), (64, 9, 0.75)]:
        specs.append((f"kdd_split/n{n}_s{seed}_t{tf:.4f}", "kdd_split",
                      {"is_anomaly": synthetic_flags(n, 0.2, seed), "seed": seed, "train_fraction": tf}))
    lengths = list(range(1, 401))
    for clip_len in (1, 8, 16):
        for vf in (0.0, 0.05, 0.1, 0.15, 0.25, 0.5, 0.9):
            specs.append((f"video/clip{clip_len}_v{vf}", "video",
                          {"n_frames_list": lengths, "clip_len": clip_len, "val_fraction": vf}))
    for n, seed, vf in [(200, 0, 0.1), (205, 1, 0.1), (15, 2, 0.1), (9, 3, 0.1), (64, 4, 0.25), (50, 5, 0.0),
                        (1001, 6, 0.15)]:
        specs.append((f"detector/n{n}_s{seed}_v{vf}", "detector", {"n": n, "seed": seed, "validation_fraction": vf}))
    for n, share, seed in [(500, 0.05, 1), (500, 0.05, 2), (333, 0.3, 3), (12_345, 0.02, 1)]:
        specs.append((f"adbench/n{n}_s{seed}", "adbench", {"y": synthetic_flags(n, share, seed).astype(int),
                                                           "seed": seed}))
    return specs


CALL_SITES = {"one_class": old_one_class, "official_test": old_official_test, "prelabelled": old_prelabelled,
              "table": old_table, "kdd": old_kdd, "kdd_split": old_kdd_split, "video": old_video,
              "detector": old_detector, "adbench": old_adbench}


def synthetic_cases() -> dict[str, dict[str, np.ndarray]]:
    return {key: CALL_SITES[kind](**args) for key, kind, args in synthetic_specs()}


def real_cases() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    mnist = DATASETS / "mnist"
    if (mnist / "train-images-idx3-ubyte.gz").is_file():
        from memae.data.images import load_image_dataset

        train = load_image_dataset("mnist", mnist, "train").labels
        test = load_image_dataset("mnist", mnist, "test").labels
        pooled = np.concatenate([train, test])
        for cls in range(10):
            for seed in (0, 1, 2):
                out[f"mnist_paper/c{cls}_s{seed}"] = {k: digest(v) for k, v in old_one_class(pooled, cls, seed).items()}
        for cls in (0, 3, 9):
            for seed in (0, 1):
                out[f"mnist_official_test/c{cls}_s{seed}"] = {
                    k: digest(v) for k, v in old_official_test(train, test, cls, seed).items()}
    else:
        print(f"no MNIST under {mnist}: skipped", file=sys.stderr)
    kdd_root = DATASETS / "kddcup99"
    if (kdd_root / "kddcup.data_10_percent.gz").is_file():
        from memae.data.kdd import load_kddcup99

        flags = load_kddcup99(kdd_root).is_anomaly
        out["kdd_flags"] = {"is_anomaly": digest(flags)}
        for seed in range(20):  # Table 3's seeds
            for protocol in ("paper", "dagmm-code"):
                out[f"kdd_{protocol}/s{seed}"] = {k: digest(v) for k, v in old_kdd(flags, seed, 0.1, protocol).items()}
    else:
        print(f"no KDD Cup 99 under {kdd_root}: skipped", file=sys.stderr)
    adb = DATASETS / "adbench"
    if adb.is_dir():
        from memae.experiments.adbench import find_tables, load_table

        for table in find_tables(adb):
            _, y = load_table(table)
            out[f"adbench_y/{table.name}"] = {"y": digest(y)}
            for seed in (1, 2, 3):  # ADBench's seeds
                out[f"adbench/{table.name}_s{seed}"] = {k: digest(v) for k, v in old_adbench(y, seed).items()}
                n_train = out[f"adbench/{table.name}_s{seed}"]["train"]["n"]
                # MemAEDetector(random_state=seed) fitted on that training part, as the benchmark does: fit's seed
                fit_seed = int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max))
                out[f"detector_adbench/{table.name}_s{seed}"] = {
                    k: digest(v) for k, v in old_detector(n_train, fit_seed, 0.1).items()}
    else:
        print(f"no ADBench tables under {adb}: skipped", file=sys.stderr)
    return out


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    cases = synthetic_cases()
    arrays = {f"{case}/{part}": np.asarray(v) for case, parts in cases.items() for part, v in parts.items()}
    arrays = {k: (v.astype(np.int32) if v.dtype.kind in "iu" else v) for k, v in arrays.items()}
    np.savez_compressed(HERE / "synthetic.npz", **arrays)
    real = real_cases()
    (HERE / "real.json").write_text(json.dumps(real, indent=1, sort_keys=True) + "\n")
    print(f"{len(cases)} synthetic cases ({(HERE / 'synthetic.npz').stat().st_size} bytes), {len(real)} real")


if __name__ == "__main__":
    main()
