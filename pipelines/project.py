"""Where a project's folders are. One project = one thinker's raw/, warehouse/, analysis/, reports/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_root() -> Path:
    """CORPUS_PROJECT_DIR if set, else the checkout this package lives in, else the cwd."""
    env = os.environ.get("CORPUS_PROJECT_DIR")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parents[1]
    if (here / "pyproject.toml").exists() and (here / "analysis").is_dir():
        return here
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def default(cls) -> Project:
        return cls(default_root())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def catalog_path(self) -> Path:
        return self.analysis / "catalog.yaml"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def work_db(self) -> Path:
        return self.warehouse_dir / "work.duckdb"

    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "corpus.duckdb"

    @property
    def cache_dir(self) -> Path:
        return self.warehouse_dir / "cache"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.root / ".dagster_home"
