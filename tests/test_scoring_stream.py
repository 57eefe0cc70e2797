"""Scoring big tables: ``memae score`` streams CSV/Parquet in chunks (bounded memory); Dask ``map_partitions``."""

from __future__ import annotations

import csv
import tracemalloc

import numpy as np
import pytest

from memae.cli.main import main
from memae.detector import MemAEDetector
from memae.scoring.stream import iter_table_chunks, score_table_stream

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A detector fitted on a mixed table (a categorical column), saved."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                          "kind": rng.choice(["x", "y"], size=300)})
    det = MemAEDetector(epochs=2, batch_size=64, device="cpu", random_state=0).fit(frame)
    path = tmp_path_factory.mktemp("det") / "det.pt"
    det.save(path)
    return det, path


def make_table(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "kind": rng.choice(["x", "y"], size=n),
                         "label": (rng.random(n) < 0.1).astype(int)})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_scores_equal_whole_table_scores(saved, tmp_path, suffix, capsys):
    det, path = saved
    table = make_table(2_345)
    file = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        table.to_csv(file, index=False)
    else:
        pytest.importorskip("pyarrow")
        table.to_parquet(file, index=False, row_group_size=500)
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), str(file), "--out", str(out), "--label-column", "label",
                 "--chunk-rows", "400"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert [int(r["id"]) for r in rows] == list(range(len(table)))
    expected = det.decision_function(table.drop(columns=["label"]))
    np.testing.assert_allclose([float(r["score"]) for r in rows], expected, rtol=1e-5)
    assert [int(r["label"]) for r in rows] == table["label"].tolist()
    assert [int(r["predicted_anomaly"]) for r in rows] == (expected > det.threshold_).astype(int).tolist()


def test_chunks_are_bounded(tmp_path):
    file = tmp_path / "t.csv"
    make_table(1_000).to_csv(file, index=False)
    sizes = [len(c) for c in iter_table_chunks(file, 300)]
    assert sizes == [300, 300, 300, 100]


def _peak_bytes(saved_path, file, out) -> int:
    tracemalloc.start()
    try:
        score_table_stream(saved_path, file, out, chunk_rows=2_000, progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_is_bounded_by_the_chunk_not_the_file(saved, tmp_path):
    """Peak Python/NumPy allocation while streaming a 4x larger file stays about the same (and far below the size
    the whole table would take), i.e. memory does not grow with the file."""
    _, path = saved
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    make_table(20_000).drop(columns=["label"]).to_csv(small, index=False)
    make_table(80_000).drop(columns=["label"]).to_csv(large, index=False)
    peak_small = _peak_bytes(path, small, tmp_path / "s.csv")
    peak_large = _peak_bytes(path, large, tmp_path / "l.csv")
    whole_large = 80_000 * 3 * 8  # the large table as float64, before any pandas overhead
    assert peak_large < 1.5 * peak_small + 200_000, (peak_small, peak_large)
    assert peak_large < whole_large, (peak_large, whole_large)


@pytest.mark.slow
def test_dask_map_partitions_in_local_mode(saved):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    from memae.scoring.partitions import PartitionScorer, score_dask

    det, path = saved
    table = make_table(1_000, seed=3)
    frame = dd.from_pandas(table, npartitions=4)
    with dask.config.set(scheduler="processes", num_workers=2):  # real pickling to worker processes, locally
        scores = score_dask(frame, path, label_column="label").compute()
    expected = det.decision_function(table.drop(columns=["label"]))
    np.testing.assert_allclose(scores.to_numpy(), expected, rtol=1e-5)
    assert list(scores.index) == list(table.index) and scores.name == "score"
    # the Spark mapInPandas form gives the same numbers
    spark_style = pd.concat(PartitionScorer(path, label_column="label").map_in_pandas(iter([table[:500], table[500:]])))
    np.testing.assert_allclose(spark_style["score"].to_numpy(), expected, rtol=1e-5)
