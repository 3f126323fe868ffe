"""Shared test setup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _restore_cwd() -> Iterator[None]:
    """`corpus` changes into the project folder; put every test back where it started."""
    cwd = Path.cwd()
    yield
    os.chdir(cwd)


def real_corpus_dir() -> Path | None:
    d = os.environ.get("CORPUS_REAL_DIR")
    return Path(d) if d and Path(d).is_dir() else None
