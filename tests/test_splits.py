"""memae.data.splits draws exactly the indices the eight split implementations before issue 21 drew.

The fixtures (``tests/data/splits/``) were recorded from the old code by ``tests/data/record_split_fixtures.py`` at
ee130fe.  Each case is checked twice: the new function called directly, and the old call site (``_table_data``,
``kdd_experiment_data``, ``MemAEDetector._train``, ``split_table``, ...) through the recorder, which now reaches the
new function.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from memae.data import splits
from memae.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "data" / "splits"
_spec = importlib.util.spec_from_file_location("record_split_fixtures", FIXTURES.parent / "record_split_fixtures.py")
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)

SYNTHETIC = np.load(FIXTURES / "synthetic.npz")
REAL = json.loads((FIXTURES / "real.json").read_text())
SPECS = {key: (kind, args) for key, kind, args in recorder.synthetic_specs()}


def _one_class(s) -> dict[str, np.ndarray]:
    return {"train": s.train_idx, "val": s.val_idx, "test": s.test_idx, "test_is_anomaly": s.test_is_anomaly}


def _table(is_anomaly, n, seed, val_fraction):
    s = splits.table_split(n, is_anomaly, seed, val_fraction)
    return {"train": s.train_idx, "val": s.val_idx, "test": s.test_idx}


def _kdd(is_anomaly, seed, val_fraction, protocol):
    s = splits.kdd_protocol_split(is_anomaly, seed, val_fraction, protocol)
    scale = s.train_idx if protocol == "paper" else np.flatnonzero(~is_anomaly)  # kdd_experiment_data's scaling rows
    return {"scale": scale, "train": s.train_idx, "val": s.val_idx, "test": s.test_idx}


def _video(n_frames_list, clip_len, val_fraction):
    rows = []
    for n in n_frames_list:
        train, val = splits.video_tail_split(n, clip_len, val_fraction)
        assert train.start == 0 and (val is None or (val.start == train.stop and val.stop == n))
        rows.append((train.stop, -1 if val is None else val.stop - val.start))
    return {"n_train_n_val": np.asarray(rows)}


def _detector(n, seed, validation_fraction):
    train, val = splits.detector_holdout(n, validation_fraction, seed)
    if len(val) < 1 or len(train) < 1:  # MemAEDetector then trains on every row, in their order
        train, val = np.arange(n), np.zeros(0, np.int64)
    return {"train": train, "val": val}


DIRECT = {
    "one_class": lambda labels, normal, seed, **kw: _one_class(splits.one_class_split(labels, normal, seed, **kw)),
    "official_test": lambda train_labels, test_labels, normal, seed, **kw: _one_class(
        splits.official_test_split(train_labels, test_labels, normal, seed, **kw)),
    "prelabelled": lambda is_anomaly, seed, val_fraction: dict(zip(
        ("train", "val", "test", "test_is_anomaly"), splits.prelabelled_split(is_anomaly, seed, val_fraction))),
    "table": _table,
    "kdd": _kdd,
    "kdd_split": lambda is_anomaly, seed, train_fraction: dict(zip(
        ("train", "test", "train_normal"), splits.kdd_split(len(is_anomaly), is_anomaly, seed, train_fraction))),
    "video": _video,
    "detector": _detector,
    "adbench": lambda y, seed: dict(zip(("train", "test"), splits.adbench_split(y, seed))),
}


def _fixture(key: str) -> dict[str, np.ndarray]:
    prefix = key + "/"
    return {k[len(prefix):]: SYNTHETIC[k] for k in SYNTHETIC.files if k.startswith(prefix)}


def _assert_same(got: dict, want: dict, key: str) -> None:
    assert sorted(got) == sorted(want), key
    for part, expected in want.items():
        actual = np.asarray(got[part])
        assert actual.dtype.kind == expected.dtype.kind or {actual.dtype.kind, expected.dtype.kind} <= set("iu"), key
        np.testing.assert_array_equal(actual, expected, err_msg=f"{key}/{part}")


def test_every_fixture_has_a_case():
    assert {k.rsplit("/", 1)[0] for k in SYNTHETIC.files} == set(SPECS)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_new_functions_draw_the_recorded_indices(key):
    kind, args = SPECS[key]
    _assert_same(DIRECT[kind](**args), _fixture(key), key)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_call_sites_draw_the_recorded_indices(key):
    kind, args = SPECS[key]
    _assert_same(recorder.CALL_SITES[kind](**args), _fixture(key), key)


def _datasets_ready(*names: str) -> bool:
    return all((recorder.DATASETS / name).is_dir() for name in names)


@pytest.mark.skipif(not (recorder.DATASETS / "mnist" / "train-images-idx3-ubyte.gz").is_file(), reason="no MNIST")
def test_real_mnist_kdd_adbench_splits_are_unchanged():
    if not _datasets_ready("kddcup99", "adbench"):
        pytest.skip("real KDD Cup 99 or ADBench tables not found")
    got = recorder.real_cases()
    assert set(got) == set(REAL)
    changed = [key for key in REAL if got[key] != REAL[key]]
    assert not changed, f"{len(changed)} real splits changed, first {changed[:5]}"


def test_round_count_rule_and_compatibility_modes():
    assert [splits.round_count(x) for x in (0.5, 1.5, 2.5, 2.4999)] == [1, 2, 3, 2]  # half up
    assert [splits.round_count(x, "half-even") for x in (0.5, 1.5, 2.5)] == [0, 2, 2]
    assert splits.round_count(0.1 * 150, "ceil") == 15 and splits.round_count(15.2, "ceil") == 16
    assert splits.round_count(2.9, "floor") == 2
    with pytest.raises(ValueError, match="rounding"):
        splits.round_count(1.0, "nearest")  # type: ignore[arg-type]


def test_table_and_kdd_splits_are_disjoint_and_cover():
    flags = np.random.default_rng(0).random(101) < 0.2
    s = splits.table_split(101, flags, seed=4, val_fraction=0.1)
    both = np.concatenate([s.train_idx, s.val_idx, s.test_idx])
    assert np.unique(both).size == both.size and not flags[np.r_[s.train_idx, s.val_idx]].any()
    np.testing.assert_array_equal(s.test_is_anomaly, flags[s.test_idx])
    k = splits.kdd_protocol_split(flags, seed=4, val_fraction=0.1, protocol="dagmm-code")
    assert set(np.flatnonzero(flags)) <= set(k.test_idx.tolist())
    with pytest.raises(ConfigError, match="data.protocol"):
        splits.kdd_protocol_split(flags, seed=0, protocol="dagmm")
