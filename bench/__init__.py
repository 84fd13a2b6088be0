"""Benchmarks that print figures (run as scripts: `make bench`), and the cost model they share."""
