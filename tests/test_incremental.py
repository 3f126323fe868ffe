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
from pipelines.core.assemble import assemble, assemble_stream
from pipelines.core.config import load_catalog
from pipelines.core.ingest import scan_and_parse
from pipelines.core.rawstore import RawStore
from pipelines.core.schema import CORE
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


def _claim_checks(root: Path) -> dict[str, tuple[int, bool, dict]]:
    """Per claim check on `claims`: how many evaluations the Dagster instance holds, and the latest
    one's passed and metadata (what the UI shows)."""
    from dagster import AssetCheckKey, AssetKey

    from pipelines.cli import _instance
    from pipelines.defs.claims import check_name
    from pipelines.project import Project

    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        ids = [r[0] for r in con.execute("SELECT claim_id FROM claims").fetchall()]
    finally:
        con.close()
    out = {}
    with _instance(Project(root)) as instance:
        for cid in ids:
            key = AssetCheckKey(AssetKey("claims"), check_name(cid))
            history = instance.event_log_storage.get_asset_check_execution_history(key, limit=100)
            latest = history[0].event.dagster_event.event_specific_data if history else None  # type: ignore[union-attr]
            out[cid] = (len(history), latest.passed, {k: v.value for k, v in latest.metadata.items()}) if latest else (0, False, {})
    return out


def _verdicts(root: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT claim_id, verdict, explanation, evidence_count FROM claims").fetchall()}
    finally:
        con.close()


def test_a_rerun_with_nothing_new_keeps_every_step_and_the_published_file(project: Path) -> None:
    before_steps = _steps(project)
    assert set(before_steps) == {"warehouse_tables", "text_analysis", "verified_claims"}
    before = _dump(project, TABLES)
    published = project / "warehouse" / "corpus.duckdb"
    mtime = published.stat().st_mtime_ns
    checks = _claim_checks(project)
    verdicts = _verdicts(project)
    assert len(checks) >= 3
    for cid, (n, passed, meta) in checks.items():  # every claim's verdict is on its check, once
        assert n == 1
        assert (meta["verdict"], meta["explanation"], meta["evidence_count"]) == verdicts[cid]
        assert passed == (verdicts[cid][0] not in {"contradicted", "lower_bound", "inconsistent"})

    assert main(["--project", str(project), "run", "--offline"]) == 0

    assert _steps(project) == before_steps  # same fingerprints, not even re-recorded
    assert published.stat().st_mtime_ns == mtime  # not copied again
    assert _dump(project, TABLES) == before
    assert _claim_checks(project) == checks  # no verdict changed: nothing reported again


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
    checks_before_file = _claim_checks(project)
    assert main(["--project", str(project), "run", "--offline"]) == 0
    after_file = _steps(project)
    # the claims whose result moved (from-scratch-anywhere counts the new post) are reported again, only they
    checks = _claim_checks(project)
    moved = {cid for cid in checks if checks[cid][1:] != checks_before_file[cid][1:]}
    assert "from-scratch-anywhere" in moved and "from-scratch-tweets" not in moved
    assert {cid: n for cid, (n, _, _) in checks.items()} == {
        cid: n + (cid in moved) for cid, (n, _, _) in checks_before_file.items()
    }
    assert {cid: (m["verdict"], m["explanation"], m["evidence_count"]) for cid, (_, _, m) in checks.items()} == _verdicts(project)
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


def test_assembly_from_light_cache_entries_equals_assembly_in_memory(tmp_path: Path) -> None:
    """The first pass reads each file's light entry (texts of non-tweets dropped, their length and
    hash kept); built from a fresh cache, and again from one whose light entries were lost (made
    from the full entries), the tables equal assembly in memory."""
    from pipelines.core.parsecache import ParseCache

    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "inbox", raw / "inbox")
    (raw / "inbox" / "copy-of-note.md").write_text("An id-less note, twice.\n")
    (raw / "inbox" / "note.md").write_text("An id-less note, twice.\n")
    (raw / "inbox" / "other-note.md").write_text("Another id-less note, once.\n")
    store = RawStore(raw)
    store.ensure()
    parsed = scan_and_parse(store, cache_dir=tmp_path / "cache")
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    in_memory = assemble(catalog, parsed)
    cache = ParseCache(tmp_path / "cache")
    from pipelines.core.parsers import all_parsers

    versions = {spec.name: spec.version for spec in all_parsers()}

    def via(snap, read):  # noqa: ANN001, ANN202 - the loader protocol
        v = versions.get(snap.format or "")
        if not snap.sha256 or not snap.format or v is None or snap.status == "rejected":
            return None
        return read(snap.sha256, snap.format, v)

    lights = sorted((tmp_path / "cache").rglob("*.light.json"))
    kinds = {"same" if '"same"' in f.read_text() else "light" for f in lights}
    assert kinds == {"same", "light"}  # a tweets-only file, and files whose texts were dropped
    for attempt in ("fresh", "lost"):
        if attempt == "lost":
            for f in lights:
                f.unlink()
        con = wh.connect(":memory:")
        big = {"documents": wh.StagedTable(con, "documents", "doc_id"), "segments": wh.StagedTable(con, "segments", "doc_id, seq")}
        tables = assemble_stream(catalog, [pf.snapshot for pf in parsed], lambda s: via(s, cache.get),
                                 lambda t, row, big=big: big[t].add(row), load_light=lambda s: via(s, cache.light))
        big["documents"].swap()
        big["segments"].swap()
        cols = [c for c, _ in CORE["documents"]]
        got = [dict(zip(cols, r, strict=True)) for r in con.execute("SELECT * FROM documents").fetchall()]
        assert got == in_memory.documents, attempt
        assert tables.merges == in_memory.merges and tables.snapshots == in_memory.snapshots, attempt
        # id-less notes are told apart by their texts' hash: the twins are one document, the other its own
        notes = sorted(d["text"].strip() for d in got if "id-less note" in d["text"])
        assert notes == ["An id-less note, twice.", "Another id-less note, once."], attempt
    assert sorted((tmp_path / "cache").rglob("*.light.json")) == lights  # written again


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
    monkeypatch.delenv(wh.MEMORY_ENV, raising=False)
    con = wh.connect(":memory:")  # the default, 1GB: what keeps a 100x run under 2 GB
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
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


def _age(root: Path, seconds: float = 60.0) -> None:
    """Every file's mtime moved into the past, as files are by the next run (not racily clean)."""
    import os
    import time

    for f in root.rglob("*"):
        if f.is_file():
            t = time.time() - seconds
            os.utime(f, (t, t))


def _key(parsed: list) -> list[tuple]:
    return [(pf.snapshot.path, pf.snapshot.sha256, pf.snapshot.bytes, pf.snapshot.status, pf.snapshot.format) for pf in parsed]


def _scanned_fixture(tmp_path: Path) -> tuple[Path, RawStore, Path, list]:
    """The fixture inbox copied into tmp_path/raw (files aged past the racy window) and scanned once
    with a hash cache in tmp_path/cache: (raw, store, cache, the scan's files)."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "inbox", raw / "inbox")
    _age(raw)
    store = RawStore(raw)
    store.ensure()
    cache = tmp_path / "cache"
    return raw, store, cache, scan_and_parse(store, cache_dir=cache, keep_results=False)


def test_an_unchanged_raw_file_is_not_hashed_again_and_a_changed_one_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash cache: (size, mtime, ctime, inode) unchanged -> no re-read; a file rewritten with the
    same size, even with its old mtime put back, is hashed again and gets its new hash."""
    import os

    import pipelines.core.ingest as ingest_mod
    from pipelines.core.rawstore import sha256_file

    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "0")  # in this process, so the hashing can be counted
    hashed: list[str] = []

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return sha256_file(path)

    monkeypatch.setattr(ingest_mod, "sha256_file", counting)
    raw, store, cache, first = _scanned_fixture(tmp_path)
    n_files = len(store.files())
    assert len(hashed) == n_files > 3
    assert (cache / "hashes.json").is_file()

    hashed.clear()
    second = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    rejected = sorted(Path(pf.snapshot.path or "").name for pf in first if pf.snapshot.status == "rejected" and pf.snapshot.sha256)
    assert rejected and len(rejected) < n_files
    assert sorted(hashed) == rejected  # only rejected files are looked at again (in a worker, never here)
    assert _key(second) == _key(first)

    # rewritten with the same size; then its old mtime put back too
    target = raw / "inbox" / "blog" / "2020-01-02-hello.markdown"
    old = target.stat()
    data = target.read_bytes()
    i = data.index(b"e") if b"e" in data else 0
    target.write_bytes(data[:i] + (b"E" if data[i:i + 1] == b"e" else b"e") + data[i + 1:])
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert target.stat().st_size == old.st_size and target.stat().st_mtime_ns == old.st_mtime_ns
    hashed.clear()
    third = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert sorted(hashed) == sorted([target.name, *rejected])
    fresh = scan_and_parse(RawStore(raw), cache_dir=tmp_path / "fresh-cache", keep_results=False)
    assert _key(third) == _key(fresh)
    changed = [a for a, b in zip(_key(third), _key(first), strict=True) if a != b]
    assert [c[0] for c in changed] == [next(pf.snapshot.path for pf in third if pf.snapshot.path and pf.snapshot.path.endswith(target.name))]


def test_a_file_hashed_just_after_it_was_written_is_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Racily clean: a file modified within two seconds of being hashed could change again within the
    same clock tick unseen, so its entry is not trusted until it has been hashed when already old."""
    import pipelines.core.ingest as ingest_mod
    from pipelines.core.rawstore import sha256_file

    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "0")
    hashed: list[str] = []
    monkeypatch.setattr(ingest_mod, "sha256_file", lambda p: hashed.append(p.name) or sha256_file(p))
    raw = tmp_path / "raw"
    (raw / "inbox").mkdir(parents=True)
    (raw / "inbox" / "note.md").write_text("---\ntitle: A note\ndate: 2021-03-04\n---\nQuillon Marr wrote this note.\n")
    store = RawStore(raw)
    store.ensure()
    scan_and_parse(store, cache_dir=tmp_path / "cache", keep_results=False)
    scan_and_parse(RawStore(raw), cache_dir=tmp_path / "cache", keep_results=False)
    assert hashed == ["note.md", "note.md"]  # fresh when first hashed: hashed again
    _age(raw)
    scan_and_parse(RawStore(raw), cache_dir=tmp_path / "cache", keep_results=False)  # mtime changed: hashed
    hashed.clear()
    scan_and_parse(RawStore(raw), cache_dir=tmp_path / "cache", keep_results=False)
    assert hashed == []


def test_an_unchanged_raw_file_is_not_sniffed_again_unless_the_sniffing_code_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash cache also keeps each file's sniffed format: an unchanged file is not opened to be
    sniffed again, a changed one is, and other sniffing code (its digest) makes every file sniffed again,
    with the same snapshots every time."""
    import pipelines.core.ingest as ingest_mod

    monkeypatch.setenv("CORPUS_PARSE_WORKERS", "0")
    sniffed: list[str] = []
    real_find = ingest_mod.find_parser
    monkeypatch.setattr(ingest_mod, "find_parser", lambda name, head, parsers=None: sniffed.append(Path(name).name) or real_find(name, head, parsers))
    raw, store, cache, first = _scanned_fixture(tmp_path)
    rejected = sorted(Path(pf.snapshot.path or "").name for pf in first if pf.snapshot.status == "rejected" and pf.snapshot.sha256)
    sniffable = [f for f in store.files() if not f.is_symlink() and f.stat().st_size]  # an empty file has nothing to sniff
    assert len(sniffed) == len(sniffable) > 3
    rejected = [r for r in rejected if r in {f.name for f in sniffable}]
    assert rejected
    sniffed.clear()
    second = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert sorted(sniffed) == rejected  # only what was rejected (never remembered) is looked at again
    assert _key(second) == _key(first)

    target = raw / "inbox" / "blog" / "2020-01-02-hello.markdown"
    target.write_bytes(target.read_bytes() + b"\nOne more line.\n")
    sniffed.clear()
    third = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert sorted(sniffed) == sorted([target.name, *rejected])
    assert _key(third) == _key(scan_and_parse(RawStore(raw), cache_dir=tmp_path / "fresh", keep_results=False))

    # the parse summaries are kept with the formats: an unchanged file's is not read from the parse cache
    from pipelines.core.parsecache import ParseCache

    read: list[str] = []
    real_summary = ParseCache.summary
    monkeypatch.setattr(ParseCache, "summary", lambda self, sha, *a: read.append(sha) or real_summary(self, sha, *a))
    _age(raw)
    scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)  # every stat changed: hashed, summaries read once more
    read.clear()
    sniffed.clear()
    again = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert {Path(p.snapshot.path or "").name for p in again if p.snapshot.sha256 in read} <= set(rejected)  # only those looked at again
    assert sorted(sniffed) == rejected
    assert _key(again) == _key(third)
    # a parse cache emptied behind its back is not trusted: the files are parsed again, same snapshots
    for entry in cache.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
    reparsed = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert _key(reparsed) == _key(third)
    assert len(list(cache.rglob("*.sum.json"))) >= len(sniffable) - len(rejected)

    monkeypatch.setattr(ingest_mod, "sniffers_digest", lambda parsers: "other-sniffers")
    sniffed.clear()
    fourth = scan_and_parse(RawStore(raw), cache_dir=cache, keep_results=False)
    assert len(sniffed) == len(sniffable)  # no memo trusted from other code
    assert _key(fourth) == _key(third)


def _ngram_corpus(con: duckdb.DuckDBPyConnection, docs: dict[str, tuple[bool, str, list[str]]]) -> None:
    """documents + sentences for build_ngrams: doc_id -> (is_own, published date, sentences)."""
    con.execute("CREATE OR REPLACE TABLE documents (doc_id VARCHAR, kind VARCHAR, word_count INTEGER, speakers_separated BOOLEAN, "
                "published_at TIMESTAMPTZ, date_basis VARCHAR, is_own BOOLEAN)")
    con.execute("CREATE OR REPLACE TABLE sentences (doc_id VARCHAR, sent_id INTEGER, text VARCHAR)")
    for doc_id, (own, day, sents) in docs.items():
        con.execute("INSERT INTO documents VALUES (?, 'post', ?, true, ?::TIMESTAMPTZ, 'published', ?)",
                    [doc_id, sum(len(x.split()) for x in sents), day, own])
        con.executemany("INSERT INTO sentences VALUES (?, ?, ?)", [(doc_id, i, x) for i, x in enumerate(sents)])


def test_kept_ngram_counts_recount_only_what_moved_and_equal_a_full_count() -> None:
    from pipelines.core import analysis

    words = ["tokenizer", "gradient", "quillon", "marr", "lattice", "vellum", "orbit", "kestrel"]
    docs = {
        f"d{i:03d}": (i % 7 != 0, f"2021-{1 + i % 12:02d}-0{1 + i % 9}",
                      [" ".join(words[(i + k + j) % len(words)] for j in range(5 + k % 4)) for k in range(3)])
        for i in range(120)
    }
    con = duckdb.connect()
    con.execute("CREATE SCHEMA keep")
    recounted: list[list[int]] = []
    moved: list[bool] = []
    real = analysis._ngram_buckets_to_count

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        out = real(*a, **k)
        recounted.append(out[0])
        moved.append(out[2])
        return out

    def both() -> None:
        analysis.build_ngrams(con, min_frequency=2, stopwords=["the"], batch_words=40, keep="keep")
        kept = con.execute("SELECT * FROM ngrams").fetchall()  # in the table's own order
        # the kept totals, moved by differences, are the sum of the kept parts
        assert con.execute("SELECT * FROM keep.ngram_totals ORDER BY ALL").fetchall() == con.execute(
            "SELECT n, ngram, sum(frequency), sum(documents) FROM keep.ngram_parts GROUP BY ALL ORDER BY ALL").fetchall()
        analysis.build_ngrams(con, min_frequency=2, stopwords=["the"], batch_words=40)
        assert kept == con.execute("SELECT * FROM ngrams").fetchall()
        analysis.build_ngrams(con, min_frequency=2, stopwords=["the"])  # one batch: no bucket split
        assert kept == con.execute("SELECT * FROM ngrams").fetchall()
        assert kept

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as mp:
        mp.setattr(analysis, "_ngram_buckets_to_count", spy)
        _ngram_corpus(con, docs)
        both()
        assert len(recounted[-1]) == analysis.NGRAM_BUCKETS  # first time: every bucket
        both()
        assert recounted[-1] == [] and moved[-1]  # nothing moved
        for change in ("add", "change", "redate", "delete", "disown"):
            if change == "add":
                docs["d900"] = (True, "2024-02-02", ["kestrel orbit vellum lattice", "marr quillon gradient"])
            elif change == "change":
                docs["d005"] = (True, docs["d005"][1], ["vellum vellum vellum orbit"])
            elif change == "redate":  # no count moves, the first dates of its n-grams do
                docs["d001"] = (True, "2019-01-01", docs["d001"][2])
            elif change == "delete":
                del docs["d010"]
            else:
                docs["d011"] = (False, *docs["d011"][1:])
            _ngram_corpus(con, docs)
            both()
            assert len(recounted[-1]) == 1, change  # one document's bucket
            assert moved[-1], change  # totals moved, not summed again
        # a run killed after the totals' mark was dropped: the totals are summed again from the parts
        con.execute("UPDATE keep.ngram_totals SET frequency = frequency + 5")
        con.execute(f"DELETE FROM keep.ngram_buckets WHERE bucket = {analysis._TOTALS_MARK}")
        both()
        assert not moved[-1] and recounted[-1] == []


def test_top_ngrams_equal_the_top_of_a_full_sum() -> None:
    """top_n gives the top N of every n-gram summed over the buckets. "kestrel" (in every other
    document: small parts in every bucket) is in the top 2, above "quillon" (100 times in one
    document); a batch smaller than a bucket exercises the split path."""
    from pipelines.core import analysis

    docs: dict[str, tuple[bool, str, list[str]]] = {}
    for i in range(320):
        sents = [f"vellum note{i}"] + (["kestrel"] if i % 2 else []) + ([" ".join(["quillon"] * 100)] if i == 7 else [])
        docs[f"d{i:03d}"] = (True, f"2022-{1 + i % 12:02d}-1{i % 9}", sents)
    con = duckdb.connect()
    _ngram_corpus(con, docs)
    for batch_words in (1_000_000, 8):
        analysis.build_ngrams(con, ns=(1, 2), min_frequency=1, stopwords=["the"], batch_words=batch_words)
        full = con.execute("SELECT * FROM ngrams ORDER BY n, frequency DESC, ngram").fetchall()
        analysis.build_ngrams(con, ns=(1, 2), min_frequency=1, stopwords=["the"], top_n=2, batch_words=batch_words)
        top = con.execute("SELECT * FROM ngrams").fetchall()
        assert top == [r for r in full if r[0] == 1][:2] + [r for r in full if r[0] == 2][:2]
        assert [(r[1], r[2], r[3]) for r in top[:2]] == [("vellum", 320, 320), ("kestrel", 160, 160)]


def _published_tables(root: Path) -> dict[str, list[tuple]]:
    """Every table and view of the published warehouse (search indexes included), rows sorted.
    Left out: _publish_info and _step_inputs, which record when (not what) was published and
    computed, and _table_digests, which holds the digests readers happened to ask for."""
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_name NOT IN ('_publish_info', '_step_inputs', '_table_digests') ORDER BY 1, 2"
        ).fetchall()
        out = {f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall() for s, t in names}  # noqa: S608 - names from the catalog
        # DuckDB's FTS index, updated in place, holds the cold build's contents under other ids
        # (core/fts.py): compared by document name and term
        f = "fts_main_documents"
        canonical = {
            "docs": f"SELECT name, len FROM {f}.docs",
            "terms": f"SELECT o.name, t.fieldid, d.term FROM {f}.terms t JOIN {f}.dict d USING (termid) JOIN {f}.docs o USING (docid)",
            "dict": f"SELECT term, df FROM {f}.dict",
            "stats": f"SELECT num_docs, round(avgdl, 9) FROM {f}.stats",
        }
        for t, sql in canonical.items():
            if f"{f}.{t}" in out:
                out[f"{f}.{t}"] = con.execute(sql + " ORDER BY ALL").fetchall()  # noqa: S608 - a constant query
        # the passage index, updated in place, holds the cold build's contents under other ids
        from pipelines.core.searchindex import CANONICAL

        for t, sql in CANONICAL.items():
            if f"main.{t}" in out:
                out[f"main.{t}"] = con.execute(sql + " ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def _cold_twin(root: Path, where: Path) -> Path:
    """A fresh project on the same inputs (raw/ copied with its mtimes), run from nothing."""
    twin = make_project(where)
    shutil.rmtree(twin / "raw")
    shutil.copytree(root / "raw", twin / "raw")
    assert main(["--project", str(twin), "run", "--offline"]) == 0
    return twin


def test_after_adding_changing_or_deleting_one_file_every_published_table_equals_a_cold_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "incremental")
    assert main(["--project", str(root), "run", "--offline"]) == 0
    inbox = root / "raw" / "inbox"
    post = inbox / "blog" / "2020-01-02-hello.markdown"
    edits = {
        "add": lambda: (inbox / "blog" / "2024-05-06-later.markdown").write_text(
            "---\nlayout: post\ntitle: Later\ndate: 2024-05-06\n---\n\n"
            "Training a tokenizer from scratch again. Quillon Marr kept the lattice of vellum notes.\n"
        ),
        "change": lambda: post.write_text(post.read_text().replace("\n\n", "\n\nA new first line, from scratch.\n\n", 1)),
        "delete": lambda: (inbox / "talks" / "AAAAAAAAAAA.youtube-transcript.json").unlink(),
    }
    from pipelines.core.parsecache import ParseCache

    real_get, real_light = ParseCache.get, ParseCache.light
    for name, edit in edits.items():
        before = _published_tables(root)
        edit()
        reads: list[str] = []
        lights: list[str] = []

        def get(self, sha, *a, reads=reads, **k):  # type: ignore[no-untyped-def]
            reads.append(sha)
            return real_get(self, sha, *a, **k)

        def light(self, sha, *a, lights=lights, **k):  # type: ignore[no-untyped-def]
            lights.append(sha)
            return real_light(self, sha, *a, **k)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ParseCache, "get", get)
            mp.setattr(ParseCache, "light", light)
            assert main(["--project", str(root), "run", "--offline"]) == 0
        # documents built last time are copied, not read again to be built: every file is matched
        # from its light entry (texts dropped), and one full entry is read, to build the file that
        # changed; after the delete, the talk's other copy (the .vtt), which now wins
        assert len(reads) == 1, (name, reads)
        assert len(lights) == len(set(lights)) > 3, (name, lights)
        got = _published_tables(root)
        assert got != before, name  # the edit is visible
        want = _published_tables(_cold_twin(root, tmp_path / f"cold-{name}"))
        assert set(got) == set(want), name
        for table in want:
            assert got[table] == want[table], f"{name}: {table} differs from a cold run"


def test_a_check_is_computed_again_only_when_the_step_it_reads_recorded_new_inputs(tmp_path: Path) -> None:
    from pipelines.defs.util import reused_check

    con = duckdb.connect()
    con.execute("CREATE TABLE documents AS SELECT 'd1' AS doc_id, '' AS text")
    store = tmp_path / "cache" / "checks.json"
    calls: list[int] = []

    def compute() -> tuple[bool, dict]:
        calls.append(1)
        n = con.execute("SELECT count(*) FROM documents WHERE text = ''").fetchone()[0]  # type: ignore[index]
        return n == 0, {"empty_text": n}

    assert reused_check(con, store, "docs", ["warehouse_tables"], compute) == (False, {"empty_text": 1})
    assert len(calls) == 1  # no fingerprint recorded: computed, not kept
    fp.record(con, "warehouse_tables", "v1")
    assert reused_check(con, store, "docs", ["warehouse_tables"], compute) == (False, {"empty_text": 1})
    assert reused_check(con, store, "docs", ["warehouse_tables"], compute) == (False, {"empty_text": 1})
    assert len(calls) == 2  # kept for v1
    con.execute("UPDATE documents SET text = 'x'")
    fp.record(con, "warehouse_tables", "v2")  # the step rewrote its tables
    assert reused_check(con, store, "docs", ["warehouse_tables"], compute) == (True, {"empty_text": 0})
    assert len(calls) == 3


def test_a_kept_table_digest_is_used_while_its_writer_stands_and_dropped_when_it_is_forgotten() -> None:
    """Readers take a written table's digest from _table_digests instead of scanning it again; a
    rebuild of the writer (or a table no step claims) is scanned."""
    con = duckdb.connect()
    con.execute("CREATE TABLE src AS SELECT 1 AS x")
    con.execute("CREATE TABLE loose AS SELECT 1 AS y")

    def build() -> None:
        con.execute("CREATE OR REPLACE TABLE out AS SELECT x * 10 AS v FROM src")

    assert fp.rebuild_unless_unchanged(con, "writer", fp.fingerprint(con, tables=["src"]), ["out"], build)[0]
    first = fp.table_digest(con, "out")
    assert con.execute("SELECT tbl, writer FROM _table_digests").fetchall() == [("out", fp.previous(con, "writer"))]
    con.execute("UPDATE out SET v = 99")  # behind the writer's back: the kept digest still answers
    assert fp.table_digest(con, "out") == first
    assert fp.table_digest(con, "out", "v + 1") != first  # another column list is its own digest
    con.execute("UPDATE loose SET y = 2")
    assert fp.table_digest(con, "loose") == "loose:1:" + str(con.execute("SELECT sum(hash(t)) FROM loose t").fetchone()[0])

    con.execute("INSERT INTO src VALUES (2)")  # the writer's inputs moved: it rebuilds, the digest goes
    assert fp.rebuild_unless_unchanged(con, "writer", fp.fingerprint(con, tables=["src"]), ["out"], build)[0]
    assert con.execute("SELECT count(*) FROM _table_digests").fetchone() == (0,)
    second = fp.table_digest(con, "out")
    assert second != first and second.startswith("out:2:")
    fp.forget(con, "writer")  # a step about to rewrite: its tables' digests are not trusted
    assert con.execute("SELECT count(*) FROM _table_digests").fetchone() == (0,)
    con.execute("UPDATE out SET v = 7")
    assert fp.table_digest(con, "out") != second  # scanned: no writer fingerprint stands
