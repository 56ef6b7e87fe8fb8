"""GR training and test samples per (paradigm, domain, period)."""
