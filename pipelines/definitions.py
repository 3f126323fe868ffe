"""The Dagster code location (`dg dev`, `dg check defs`): the project in CORPUS_PROJECT_DIR, else
this checkout. Loading fails, naming the file, entry and field, when its configuration is invalid."""

from pipelines.defs.location import build_defs

defs = build_defs()

__all__ = ["build_defs", "defs"]
