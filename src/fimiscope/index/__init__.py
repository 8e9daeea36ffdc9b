"""the search kernels, free of storage: MinHash/LSH, lexical (BM25), vectors (ANN), the pluggable text encoders"""
