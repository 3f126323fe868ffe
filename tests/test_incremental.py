"""Incremental re-runs and streaming assembly.

* A re-run with nothing new keeps every step's tables (its fingerprint is unchanged), and the
  published file is not copied again; a changed input reruns exactly the steps that read it.
* Assembly streamed into DuckDB in tiny batches gives the same tables as assembly in memory.
* raw_files decides each file's status from the parse cache's summary exactly as from a full parse.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core import fingerprint as fp
from pipelines.core import warehouse as wh
from pipelines.core.schema import CORE
from pipelines.core.assemble import assemble, assemble_stream
from pipelines.core.config import load_catalog
from pipelines.core.ingest import scan_and_parse
from pipelines.core.rawstore import RawStore
from tests.test_end_to_end import FIXTURES, make_project


def _steps(root: Path) -> dict[str, tuple[str, datetime]]:
    con = duckdb.connect(str(root / "warehouse" / "work.duckdb"), read_only=True)
    try:
        return {s: (f, at) for s, f, at in con.execute("SELECT step, fingerprint, recorded_at FROM _step_inputs").fetchall()}
    finally:
        con.close()


def _dump(root: Path, tables: list[str]) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}  # noqa: S608 - test's own table names
    finally:
        con.close()


TABLES = ["documents", "segments", "snapshots", "sentences", "phrase_frequencies", "ngrams", "claims", "claim_evidence"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("incremental"))
    assert main(["--project", str(root), "run", "--offline"]) == 0
    return root


def test_a_rerun_with_nothing_new_keeps_every_step_and_the_published_file(project: Path) -> None:
    before_steps = _steps(project)
    assert set(before_steps) == {"warehouse_tables", "text_analysis", "verified_claims"}
    before = _dump(project, TABLES)
    published = project / "warehouse" / "corpus.duckdb"
    mtime = published.stat().st_mtime_ns

    assert main(["--project", str(project), "run", "--offline"]) == 0

    assert _steps(project) == before_steps  # same fingerprints, not even re-recorded
    assert published.stat().st_mtime_ns == mtime  # not copied again
    assert _dump(project, TABLES) == before


def test_a_changed_input_reruns_only_the_steps_that_read_it(project: Path) -> None:
    before = _steps(project)
    lexicon = project / "analysis" / "lexicon.yaml"
    shutil.copy(Path(__file__).resolve().parents[1] / "analysis" / "lexicon.yaml", lexicon)
    lexicon.write_text(lexicon.read_text() + "\n")  # same content, different bytes: text_analysis must rerun

    assert main(["--project", str(project), "run", "--offline"]) == 0
    after = _steps(project)
    assert after["warehouse_tables"] == before["warehouse_tables"]  # raw files and catalog unchanged
    assert after["text_analysis"][0] != before["text_analysis"][0]
    assert after["text_analysis"][1] > before["text_analysis"][1]

    # a new file: the warehouse step reruns and the new document lands
    (project / "raw" / "inbox" / "extra.md").write_text(
        "---\ntitle: A later post\ndate: 2024-03-01\nlayout: post\n---\n\nTraining a tokenizer from scratch, again.\n"
    )
    steps_before_file = _steps(project)
    assert main(["--project", str(project), "run", "--offline"]) == 0
    after_file = _steps(project)
    assert after_file["warehouse_tables"][0] != steps_before_file["warehouse_tables"][0]
    con = duckdb.connect(str(project / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        landed = con.execute("SELECT count(*) FROM documents WHERE title = 'A later post'").fetchone()
    finally:
        con.close()
    assert landed == (1,)


def test_a_step_killed_half_way_forgets_its_fingerprint() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    value = fp.fingerprint(con, tables=["t"], extra=["v1"])
    fp.record(con, "step", value)
    assert fp.unchanged(con, "step", value, ["t"])
    assert not fp.unchanged(con, "step", value, ["t", "missing_output"])
    fp.forget(con, "step")  # what a step does before rewriting its tables
    assert not fp.unchanged(con, "step", value, ["t"])
    con.execute("INSERT INTO t VALUES (2)")
    assert fp.fingerprint(con, tables=["t"], extra=["v1"]) != value
    assert fp.table_digest(con, "nope") == "nope:absent"


def test_streamed_assembly_in_tiny_batches_equals_assembly_in_memory(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "inbox", raw / "inbox")
    store = RawStore(raw)
    store.ensure()
    parsed = scan_and_parse(store, cache_dir=tmp_path / "cache")
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    in_memory = assemble(catalog, parsed)
    assert len(in_memory.documents) >= 5 and len(in_memory.segments) > 5

    con = wh.connect(":memory:")
    results = {pf.snapshot.snapshot_id: pf.result for pf in parsed}
    loads: list[str] = []

    def load(snap):  # noqa: ANN001, ANN202 - the loader protocol
        loads.append(snap.snapshot_id)
        return results.get(snap.snapshot_id)

    big = {"documents": wh.StagedTable(con, "documents", "doc_id", max_rows=2),
           "segments": wh.StagedTable(con, "segments", "doc_id, seq", max_rows=3)}
    tables = assemble_stream(catalog, [pf.snapshot for pf in parsed], load, lambda t, row: big[t].add(row))
    assert tables.documents == [] and tables.segments == []
    assert big["documents"].swap() == len(in_memory.documents)
    assert big["segments"].swap() == len(in_memory.segments)

    cols = [c for c, _ in CORE["documents"]]
    got = [dict(zip(cols, r, strict=True)) for r in con.execute("SELECT * FROM documents").fetchall()]  # sorted by the swap
    assert [d["doc_id"] for d in got] == [d["doc_id"] for d in in_memory.documents]
    for a, b in zip(got, in_memory.documents, strict=True):
        for c in cols:
            assert a[c] == b[c], (a["doc_id"], c)
    seg_cols = [c for c, _ in CORE["segments"]]
    segs = [dict(zip(seg_cols, r, strict=True)) for r in con.execute("SELECT * FROM segments").fetchall()]
    assert segs == in_memory.segments
    assert tables.snapshots == in_memory.snapshots and tables.tweets == in_memory.tweets
    assert tables.parse_issues == in_memory.parse_issues and tables.sources == in_memory.sources
    # winners' files are read a second time, and only those
    with_results = [s for s, r in results.items() if r is not None]
    assert set(loads) >= set(with_results)
    assert len(loads) < 2 * len(parsed)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_staging_%'").fetchone() == (0,)


def test_status_from_the_cache_summary_equals_the_full_parse(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "inbox", raw / "inbox")
    (raw / "inbox" / "empty.md").write_text("")
    (raw / "inbox" / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge, to any person\n")
    store = RawStore(raw)
    store.ensure()
    full = scan_and_parse(store, cache_dir=tmp_path / "cache")
    cold = scan_and_parse(RawStore(raw), cache_dir=tmp_path / "cache2", keep_results=False)
    warm = scan_and_parse(RawStore(raw), cache_dir=tmp_path / "cache", keep_results=False)
    assert all(pf.result is None for pf in cold + warm)
    key = [(pf.snapshot.path, pf.snapshot.status, pf.snapshot.error, pf.snapshot.format) for pf in full]
    assert [(pf.snapshot.path, pf.snapshot.status, pf.snapshot.error, pf.snapshot.format) for pf in cold] == key
    assert [(pf.snapshot.path, pf.snapshot.status, pf.snapshot.error, pf.snapshot.format) for pf in warm] == key
    assert {s for _, s, _, _ in key} >= {"accepted", "rejected", "skipped"}
    assert list((tmp_path / "cache").rglob("*.sum.json"))


def test_memory_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(wh.MEMORY_ENV, "512MB")
    con = wh.connect(":memory:")
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("488")
    monkeypatch.setenv(wh.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="CORPUS_DUCKDB_MEMORY_LIMIT"):
        wh.connect(":memory:")


def test_a_missing_search_table_is_rebuilt_and_published(project: Path) -> None:
    """A warehouse whose passage index predates this version (or lost a table) gets it on the next
    run, and the published file is copied again although no step's inputs changed."""
    work = duckdb.connect(str(project / "warehouse" / "work.duckdb"))
    try:
        work.execute("DROP TABLE _search_postings")
    finally:
        work.close()
    published = project / "warehouse" / "corpus.duckdb"
    mtime = published.stat().st_mtime_ns
    assert main(["--project", str(project), "run", "--offline"]) == 0
    assert published.stat().st_mtime_ns != mtime
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM _search_postings").fetchone()[0] > 0
    finally:
        con.close()
