"""Data layer: raw Amazon-2023-format reviews -> per-(domain, period) parquet shards."""
