"""`make demo`: the whole Kontor chain against the sandbox, run through Dagster (`python -m demo`)."""
