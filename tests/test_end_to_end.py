"""End to end: `corpus run` on a synthetic project materializes every asset in-process and the
published warehouse holds exactly what the fixture files say."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import make_offline_project
from conftest import query_published as query

from pipelines.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "e2e"
REPO = Path(__file__).resolve().parents[1]


def make_project(tmp_path: Path) -> Path:
    root = make_offline_project(tmp_path)
    shutil.copy(FIXTURES / "claims.yaml", root / "analysis" / "claims.yaml")
    # Fetching is real but points at a closed port on this machine: every fetch fails fast and is
    # recorded, exactly as on a machine without network.
    (root / "analysis" / "fetch.yaml").write_text(
        f"http: {{max_attempts: 1, breaker_threshold: 1, polite_delay: 0, connect_timeout: 2}}\n"
        f"youtube: {{base_url: 'http://127.0.0.1:{closed_port()}'}}\n"
    )
    return root


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("e2e"))
    cwd = Path.cwd()
    try:
        assert main(["--project", str(root), "run"]) == 0
    finally:
        os.chdir(cwd)
    return root


def test_documents_landed_once_each_with_the_best_version(built: Path) -> None:
    docs = dict(query(built, "SELECT doc_id, kind FROM documents"))
    assert docs == {
        "video-intro-talk": "video",
        "blog-hello": "blog_post",
        "tweet-1000000000000000001": "tweet",
        "tweet-1000000000000000002": "tweet",
        "tweet-1000000000000000003": "tweet",
        "tweet-1000000000000000004": "tweet",
    }
    # The human-caption snapshot (quality 30) beats the VTT of the same video.
    (text, versions, fmt) = query(built, "SELECT text, versions, format FROM documents WHERE doc_id = 'video-intro-talk'")[0]
    assert text.startswith("Hello and welcome to this talk about gradients.")
    assert "Thanks for watching!" in text
    assert versions == 2
    # The archive's full text beats the scraped, truncated CSV text of the same tweet id.
    (t1,) = query(built, "SELECT text FROM documents WHERE doc_id = 'tweet-1000000000000000001'")[0]
    assert t1 == "Building a tiny autograd engine from scratch today & loving it"


def test_tweet_fields_and_own_words(built: Path) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            built,
            """SELECT t.tweet_id, t.is_retweet, t.is_reply, t.reply_to_id, t.urls, d.is_own, t.created_at::VARCHAR
               FROM tweets t JOIN documents d USING (doc_id)""",
        )
    }
    assert rows["1000000000000000002"][0] is True and rows["1000000000000000002"][4] is False
    assert rows["1000000000000000003"][1:4] == (True, "999", ["https://example.org/paper"])
    assert rows["1000000000000000001"][5].startswith("2023-02-18 12:33:11")
    (text4,) = query(built, "SELECT text FROM tweets WHERE tweet_id = '1000000000000000004'")[0]
    assert text4 == "A second thought,\non two lines"


def test_every_raw_file_has_a_status_and_reason(built: Path) -> None:
    snaps = {Path(p).name: (s, e) for p, s, e in query(built, "SELECT path, status, error FROM snapshots WHERE path IS NOT NULL")}
    assert snaps["tweets.js"][0] == "accepted"
    assert snaps["scraped.csv"][0] == "accepted"  # it brings tweet ...004
    assert snaps["intro-talk_AAAAAAAAAAA.vtt"][0] == "duplicate"
    assert "video-intro-talk" in snaps["intro-talk_AAAAAAAAAAA.vtt"][1]
    assert snaps["empty.txt"] == ("rejected", "empty file (0 bytes)")
    assert snaps["data.xyz"][0] == "rejected" and "no parser" in snaps["data.xyz"][1]
    assert snaps["picture-renamed.txt"][0] == "rejected" and "binary" in snaps["picture-renamed.txt"][1]
    assert all(e for s, e in snaps.values() if s in ("rejected", "duplicate"))


def test_unreachable_sources_are_recorded_not_fatal(built: Path) -> None:
    rows = query(built, "SELECT source_id, status, error FROM snapshots WHERE path IS NULL ORDER BY source_id")
    by_source = {r[0]: r[1:] for r in rows}
    assert by_source["video-never-dropped"][0] == "failed"
    assert by_source["video-never-dropped"][1]  # the reason, e.g. connection refused / host given up
    # the known gap is not fetched at all, and nothing in raw/ was touched by the failed fetches
    assert "gap-old-lectures" not in by_source


def test_sources_and_segments(built: Path) -> None:
    src = {r[0]: r[1:] for r in query(built, "SELECT source_id, in_catalog, known_gap FROM sources")}
    assert src["video-never-dropped"] == (True, False)
    assert src["gap-old-lectures"] == (True, True)
    n = query(
        built, "SELECT count(*) FROM documents WHERE source_id IN ('video-never-dropped', 'gap-old-lectures')"
    )[0][0]
    assert n == 0
    segs = query(built, "SELECT seq, start_s, end_s, text FROM segments WHERE doc_id = 'video-intro-talk' ORDER BY seq")
    assert len(segs) == 4
    assert segs[1][1:3] == (4.0, 9.5)
    # segment offsets point into documents.text
    (ok,) = query(
        built,
        """SELECT bool_and(substr(d.text, s.start_char + 1, s.end_char - s.start_char) = trim(s.text))
           FROM segments s JOIN documents d USING (doc_id) WHERE s.start_char IS NOT NULL""",
    )[0]
    assert ok is True


def test_rerun_is_idempotent(built: Path) -> None:
    def state() -> str:
        h = hashlib.sha256()
        for t in ("sources", "documents", "segments", "tweets"):
            for row in query(built, f"SELECT * FROM {t} ORDER BY ALL"):  # noqa: S608  (fixed table names)
                h.update(repr(row).encode())
        for row in query(built, "SELECT snapshot_id, path, status, error FROM snapshots ORDER BY ALL"):
            h.update(repr(row).encode())
        return h.hexdigest()

    before = state()
    assert main(["--project", str(built), "run"]) == 0
    assert state() == before


def test_import_copies_without_touching_the_original(built: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "2021-05-05-second.markdown"
    outside.parent.mkdir()
    outside.write_text("---\ntitle: Second Post\ndate: 2021-05-05\n---\n\nAnother invented post about loss curves.\n")
    before = (outside.read_bytes(), outside.stat().st_mtime_ns)
    assert main(["--project", str(built), "import", str(outside)]) == 0
    assert (outside.read_bytes(), outside.stat().st_mtime_ns) == before
    stored = list((built / "raw" / "store").rglob("2021-05-05-second.markdown"))
    assert len(stored) == 1 and stored[0].read_bytes() == before[0]
    assert str(outside.resolve()) in (built / "raw" / "manifest.jsonl").read_text()
    assert main(["--project", str(built), "run"]) == 0
    rows = query(built, "SELECT kind, title, published_at::DATE::VARCHAR FROM documents WHERE title = 'Second Post'")
    assert rows == [("blog_post", "Second Post", "2021-05-05")]


def test_invalid_catalog_fails_with_file_entry_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path)
    cat = root / "analysis" / "catalog.yaml"
    cat.write_text(cat.read_text().replace("id: blog-hello", "id: \"x'; drop table sources\""))
    assert main(["--project", str(root), "run"]) == 2
    err = capsys.readouterr().err
    assert "catalog.yaml" in err and "sources[1]" in err and "'id'" in err


def test_claims_verdicts_and_evidence_links(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = dict(query(built, "SELECT claim_id, verdict FROM claims"))
    # the retweet ("scratchpads") and the truncated CSV copy do not count: one own tweet says it
    assert verdicts == {"from-scratch-tweets": "contradicted", "from-scratch-anywhere": "supported", "parts-add-up": "inconsistent"}
    (measured,) = query(built, "SELECT measured_value FROM claims WHERE claim_id = 'from-scratch-tweets'")[0]
    assert measured == 1
    links = {r[0] for r in query(built, "SELECT link FROM claim_evidence WHERE claim_id = 'from-scratch-anywhere'")}
    assert "https://www.youtube.com/watch?v=AAAAAAAAAAA&t=4s" in links
    assert "https://x.com/adaex/status/1000000000000000001" in links or any("1000000000000000001" in (x or "") for x in links)
    assert main(["--project", str(built), "claims", "--status", "inconsistent"]) == 0
    out = capsys.readouterr().out
    assert "parts-add-up" in out and "from-scratch-tweets" not in out


def test_kwic_and_search_commands(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(built), "kwic", "from scratch"]) == 0
    out = capsys.readouterr().out
    assert out.count("from scratch") == 2  # the own tweet and the talk, not the retweet's "scratchpads"
    assert "&t=4s" in out
    assert main(["--project", str(built), "search", "tiny engine", "--kind", "video"]) == 0
    out = capsys.readouterr().out
    assert "An Intro Talk About Gradients" in out and "watch?v=AAAAAAAAAAA" in out
    (n,) = query(built, "SELECT count(*) FROM phrase_frequencies WHERE phrase_id = 'from-scratch' AND kind = '*' AND period_month IS NULL AND documents = 2")[0]
    assert n == 1


def test_every_saved_query_runs_on_the_warehouse(built: Path) -> None:
    queries = sorted((REPO / "analysis" / "queries").glob("*.sql"))
    assert len(queries) >= 10
    con = duckdb.connect(str(built / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        for q in queries:
            con.execute(q.read_text()).fetchall()  # raises with the file's error if a query broke
    finally:
        con.close()


def test_claims_are_reverified_when_their_inputs_change(built: Path) -> None:
    claims = built / "analysis" / "claims.yaml"
    original = claims.read_text()
    try:
        claims.write_text(original.replace("expected: 40", "expected: 30"))
        assert main(["--project", str(built), "run", "--offline"]) == 0
        (verdict,) = query(built, "SELECT verdict FROM claims WHERE claim_id = 'parts-add-up'")[0]
        assert verdict == "supported"
    finally:
        claims.write_text(original)
    assert main(["--project", str(built), "run", "--offline"]) == 0
    (verdict,) = query(built, "SELECT verdict FROM claims WHERE claim_id = 'parts-add-up'")[0]
    assert verdict == "inconsistent"


def test_the_report_is_rewritten_only_when_its_inputs_change(built: Path, tmp_path: Path) -> None:
    """The run wrote the pages and what they were made from; the same inputs keep them (not even the
    warehouse is opened), and a new publish, another thinker name or a missing page rewrites them."""
    from pipelines.core import warehouse as wh
    from pipelines.core.report import REPORT_INPUTS, write_report_unless_unchanged

    reports = tmp_path / "reports"
    shutil.copytree(built / "reports", reports)
    assert (reports / REPORT_INPUTS).is_file()
    db = built / "warehouse" / "corpus.duckdb"
    info = wh.published_info(db)
    assert info and info.get("state")
    opened: list[int] = []

    def open_wh() -> duckdb.DuckDBPyConnection:
        opened.append(1)
        return wh.connect(db, read_only=True)

    written, first = write_report_unless_unchanged(open_wh, reports, published=info, thinker="Someone Else")
    assert written and opened == [1]  # another thinker name than the run's
    stamp = (reports / "index.html").stat().st_mtime_ns
    written, again = write_report_unless_unchanged(open_wh, reports, published=info, thinker="Someone Else")
    assert not written and opened == [1] and again == first
    assert (reports / "index.html").stat().st_mtime_ns == stamp
    newer = dict(info, state="0" * 64)
    written, _ = write_report_unless_unchanged(open_wh, reports, published=newer, thinker="Someone Else")
    assert written and len(opened) == 2
    (reports / "tweets.html").unlink()
    written, _ = write_report_unless_unchanged(open_wh, reports, published=newer, thinker="Someone Else")
    assert written and (reports / "tweets.html").is_file() and len(opened) == 3
