"""Training: one readable loop (``loop``), its learning-rate schedule and batch collation."""
