"""the same kernels run on a distributed engine (Spark) over Parquet/WARC at corpus scale"""
