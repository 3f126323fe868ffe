"""Resources: where the project lives, and the working DuckDB the assets write."""


import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource

from pipelines.core import warehouse as wh
from pipelines.core.config import Catalog, load_catalog
from pipelines.core.lexicon import Lexicon
from pipelines.core.rawstore import RawStore
from pipelines.project import Project


class CorpusProject(ConfigurableResource):
    """The project folder (raw/, analysis/, warehouse/, reports/). Empty = the default project."""

    root: str = ""

    @property
    def project(self) -> Project:
        return Project(__import__("pathlib").Path(self.root)) if self.root else Project.default()

    def raw_store(self) -> RawStore:
        return RawStore(self.project.raw)

    def catalog(self) -> Catalog:
        return load_catalog(self.project.catalog_path)

    def lexicon(self) -> Lexicon:
        """The project's lexicon, or the shipped one when the project has none (as text_analysis does)."""
        from pipelines.core.lexicon import default_lexicon_path, load_lexicon

        path = self.project.analysis / "lexicon.yaml"
        return load_lexicon(path if path.exists() else default_lexicon_path())

    @contextmanager
    def work_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The working database (plain SQL, FTS loaded by path). Only the pipeline writes it."""
        p = self.project
        p.warehouse_dir.mkdir(parents=True, exist_ok=True)
        # Steps share the file through the `warehouse` pool; under an executor that still overlaps
        # two steps, wait for the other process's lock instead of failing (bounded: 10 minutes).
        deadline = time.monotonic() + 600
        while True:
            try:
                con = wh.connect(p.work_db)
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        try:
            yield con
        finally:
            con.close()
