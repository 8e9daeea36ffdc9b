"""The Spark session of the batch jobs: ``local[*]`` by default, any cluster by ``master``."""

from __future__ import annotations

import os
import sys
from typing import Any

from fimiscope.core.errors import Unavailable


def session(master: str = "local[*]", app: str = "fimiscope", *, shuffle_partitions: int | None = None) -> Any:
    """A SparkSession (pyspark is in the ``spark`` extra; Spark 4 needs Java 17+)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise Unavailable("the batch jobs need PySpark: pip install 'fimiscope[spark]' (and Java 17)") from exc
    if master.startswith("local"):
        # Python workers run fimiscope's kernels: on a local master they are this interpreter;
        # on a cluster every executor needs the same fimiscope installed (docs/scale.md).
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if shuffle_partitions is None and master.startswith("local"):
        # one machine: Spark's default of 200 shuffle partitions is 200 tasks (and 200 small
        # output files) per join for a handful of cores
        inner = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        cores = os.cpu_count() or 2 if inner in ("*", "") else int(inner.split(",")[0]) if inner.isdigit() else 2
        shuffle_partitions = max(2 * cores, 4)
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start (no Java, bad master URL)
        raise Unavailable(f"Spark did not start at {master}: {exc}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark
