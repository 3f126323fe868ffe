"""Prototype fixes the harness can apply to a benchmark run, to measure a suggested change at scale
without editing the pipeline (``bench/run.py --duckdb-memory-limit 3GB --batched-ngrams``).

Nothing in the pipeline imports this module; `corpus run` is unchanged. Each function here is a
candidate replacement whose output is checked equal to the original (see bench/RESULTS.md).
"""

# SQL is assembled only from fragments defined here and in pipelines.core.analysis; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

# The batched n-gram builder measured here became pipelines.core.analysis.build_ngrams; the name is
# kept so `--batched-ngrams` still runs (now the same code as the pipeline).
from pipelines.core.analysis import build_ngrams as build_ngrams_batched  # noqa: E402

__all__ = ["build_ngrams_batched"]
