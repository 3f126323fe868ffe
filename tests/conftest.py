"""Shared test setup."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


E2E_FIXTURES = Path(__file__).parent / "fixtures" / "e2e"
REPO = Path(__file__).resolve().parents[1]


def make_offline_project(tmp_path: Path) -> Path:
    """A project with the e2e fixture's catalog and inbox (no claims, no fetch config)."""
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    shutil.copy(E2E_FIXTURES / "catalog.yaml", root / "analysis" / "catalog.yaml")
    shutil.copytree(E2E_FIXTURES / "inbox", root / "raw" / "inbox")
    shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
    return root


def query_published(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a query on a project's published warehouse (opened read-only, closed after)."""
    import duckdb

    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def child_env(**extra: str) -> dict[str, str]:
    """This environment without any CORPUS_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORPUS_")}
    env.update(extra)
    return env


def start_corpus_run(root: Path, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """`corpus run --offline` in a child process; its output goes to a file (a pipe could fill and block it)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "--project", str(root), "run", "--offline"],
            env=child_env(**extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
