"""Scoring tables that outgrow one machine with an existing engine: Dask's ``map_partitions`` (the optional extra
``memae[dask]``), or anything else that hands pandas DataFrames to a function, such as Spark's ``mapInPandas``.

>>> import dask.dataframe as dd                                      # doctest: +SKIP
>>> from memae.scoring.partitions import score_dask
>>> frame = dd.read_parquet("s3://bucket/events/*.parquet")        # doctest: +SKIP
>>> scores = score_dask(frame, "detector.pt")                      # doctest: +SKIP
>>> scores.to_frame().to_parquet("scores/")                         # doctest: +SKIP

Each worker loads the checkpoint once (by path: the file must be readable from every worker, e.g. on shared or
object storage) and applies the preprocessing stored in it, so a row gets the same score as
``MemAEDetector.decision_function`` would give it.  Why Dask over Spark: it is pure Python (no JVM) and runs
the same code on a laptop, in local mode in the tests, and on a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError
from .stream import TableScorer

__all__ = ["PartitionScorer", "score_dask"]


class PartitionScorer:
    """Callable on a pandas DataFrame (one partition) -> pandas Series of scores with the partition's index.

    Use it with ``dask_frame.map_partitions(scorer, meta=("score", "f8"))``; for Spark,
    ``spark_frame.mapInPandas(scorer.map_in_pandas, schema="score double")``.
    """

    def __init__(self, checkpoint: str | os.PathLike[str], error: str | None = None,
                 label_column: str | None = None) -> None:
        self._scorer = TableScorer(checkpoint, error)
        self.label_column = label_column

    def __call__(self, frame: Any) -> Any:
        import pandas as pd

        features = frame.drop(columns=[self.label_column]) if self.label_column else frame
        return pd.Series(self._scorer.score(features, "partition"), index=frame.index, name="score", dtype="float64")

    def map_in_pandas(self, frames: Iterator[Any]) -> Iterator[Any]:
        """Spark ``mapInPandas`` form: DataFrames in, one-column ``score`` DataFrames out."""
        for frame in frames:
            yield self(frame).to_frame()


def score_dask(frame: Any, checkpoint: str | os.PathLike[str], *, error: str | None = None,
               label_column: str | None = None) -> Any:
    """Lazy anomaly scores (a dask Series named ``score``, float64) of every row of a dask DataFrame."""
    try:
        import dask.dataframe as dd
    except ImportError:
        raise ConfigError("distributed scoring needs Dask; run: pip install 'memae[dask]'") from None
    if not isinstance(frame, dd.DataFrame):
        raise ConfigError(f"score_dask takes a dask DataFrame, not {type(frame).__name__}; wrap a pandas one with "
                          "dask.dataframe.from_pandas")
    return frame.map_partitions(PartitionScorer(checkpoint, error, label_column), meta=("score", "f8"))
