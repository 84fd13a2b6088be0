"""Kontor's neutral core: configuration, warehouse access, locks and rate limits.

Sources (`pipelines/`), the Dagster layer (`assets/`), the models (`transforms/`) and the analysts'
console (`kontor/`) all build on it; it imports none of them.
"""
