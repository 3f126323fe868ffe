"""The real sample corpus (CORPUS_REAL_DIR, e.g. ../shared/corpus) through the whole pipeline.

Skipped unless CORPUS_REAL_DIR is set. The corpus is third-party text: it is copied into a temporary
project's raw/inbox/ for the run, never into this repository.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core.config import load_catalog
from tests.conftest import real_corpus_dir

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.real_corpus


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = real_corpus_dir()
    if corpus is None:
        pytest.skip("CORPUS_REAL_DIR is not set")
    root = tmp_path_factory.mktemp("real") / "project"
    shutil.copytree(REPO / "analysis", root / "analysis")
    shutil.copytree(corpus, root / "raw" / "inbox")
    shutil.copy(REPO / "dagster.yaml", root / "dagster.yaml")
    cwd = Path.cwd()
    try:
        assert main(["--project", str(root), "run", "--offline"]) == 0
    finally:
        os.chdir(cwd)
    return root


def q(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_file_has_an_outcome_and_none_is_rejected(real_project: Path) -> None:
    files = [p for p in (real_project / "raw" / "inbox").rglob("*") if p.is_file()]
    rows = q(real_project, "SELECT path, status, error FROM snapshots WHERE path IS NOT NULL")
    assert len(rows) == len(files)
    assert all(s in {"accepted", "duplicate", "metadata", "skipped"} for _, s, _ in rows), [r for r in rows if r[1] == "rejected"]
    assert all(e for _, s, e in rows if s in ("skipped", "duplicate"))


def test_the_23_dated_github_io_posts(real_project: Path) -> None:
    rows = q(
        real_project,
        """SELECT d.doc_id, d.published_at FROM documents d JOIN sources s USING (source_id)
           WHERE s.collection = 'github_io' AND d.kind = 'blog_post' AND s.in_catalog""",
    )
    dated = [r for r in rows if r[1] is not None]
    assert len(dated) == 23, sorted(r[0] for r in rows)
    # the front matter's date wins over the file name (2015-11-20-ai.markdown says 2015-11-14)
    (when,) = q(real_project, "SELECT published_at::DATE::VARCHAR FROM documents WHERE title = 'Short Story on AI: A Cognitive Discontinuity.'")[0]
    assert when == "2015-11-14"


def test_every_transcript_file_lands_on_its_catalog_video(real_project: Path) -> None:
    catalog = load_catalog(real_project / "analysis" / "catalog.yaml")
    by_yt = {s.youtube_id: s.id for s in catalog.sources if s.youtube_id}
    ids_in_files = set()
    for p in (real_project / "raw" / "inbox" / "transcripts").rglob("*"):
        m = re.search(r"_([A-Za-z0-9_-]{11})\.", p.name)
        if m and m.group(1) in by_yt:
            ids_in_files.add(m.group(1))
    assert len(ids_in_files) >= 15
    landed = {r[0] for r in q(real_project, "SELECT source_id FROM documents WHERE kind IN ('video', 'podcast')")}
    missing = {vid: by_yt[vid] for vid in ids_in_files if by_yt[vid] not in landed}
    assert not missing
    # one document per video even though whisper, captions and HTML copies exist
    (dups,) = q(real_project, "SELECT count(*) - count(DISTINCT source_id) FROM documents WHERE kind IN ('video','podcast')")[0]
    assert dups == 0


def test_tweets_dedup_across_dumps_and_flag_retweets(real_project: Path) -> None:
    (n, ids, rts) = q(real_project, "SELECT count(*), count(DISTINCT tweet_id), count(*) FILTER (WHERE is_retweet) FROM tweets")[0]
    assert n == ids and n > 800
    assert rts > 0
    (own_rt,) = q(real_project, "SELECT count(*) FROM tweets t JOIN documents d USING (doc_id) WHERE t.is_retweet AND d.is_own")[0]
    assert own_rt == 0
    # the two nitter CSVs overlap: files marked duplicate or documents with versions > 1
    (multi,) = q(real_project, "SELECT count(*) FROM documents WHERE kind = 'tweet' AND versions > 1")[0]
    assert multi > 100


def test_factorio_query_from_the_readme(real_project: Path) -> None:
    (n,) = q(real_project, "SELECT count(*) FROM documents WHERE kind = 'tweet' AND is_own AND text ILIKE '%factorio%'")[0]
    assert n >= 1


def test_from_scratch_count_reproduces_by_hand(real_project: Path) -> None:
    (by_table,) = q(real_project, "SELECT documents FROM phrase_frequencies WHERE phrase_id = 'from-scratch' AND kind = 'tweet' AND period_month IS NULL")[0]
    texts = [t for (t,) in q(real_project, "SELECT text FROM documents WHERE kind = 'tweet' AND is_own")]
    by_hand = sum(1 for t in texts if re.search(r"(?i)\bfrom[\s-]+scratch\b", t))
    assert by_table == by_hand and by_table > 10


def test_citations_first_uses_and_claims(real_project: Path) -> None:
    tallies = dict(q(real_project, "SELECT entity_id, documents FROM citation_tallies WHERE kind = '*'"))
    for entity in ("licklider", "simon-willison", "factorio"):
        assert tallies.get(entity, 0) >= 1, entity
    # Kahneman is listed with a zero: the sample corpus never names him, and the claim says so
    assert tallies["kahneman"] == 0
    (first,) = q(real_project, "SELECT first_seen::DATE::VARCHAR FROM first_uses WHERE phrase_id = 'vibe-coding'")[0]
    assert first.startswith("2025-02")
    rows = q(real_project, "SELECT claim_id, verdict, explanation FROM claims")
    assert len(rows) > 150
    assert all(v in {"supported", "contradicted", "lower_bound", "not_checkable", "inconsistent"} and e for _, v, e in rows)
    verdicts = {c: v for c, v, _ in rows}
    assert verdicts["licklider-thread-tweets"] == "supported"
    assert verdicts["arith-video-words-sum"] == "inconsistent"
    assert verdicts["kahneman-videos"] in {"contradicted", "lower_bound"}
    (n_ev,) = q(real_project, "SELECT count(*) FROM claim_evidence WHERE claim_id = 'from-scratch-tweets' AND link LIKE 'https://x.com/%'")[0]
    assert n_ev >= 5


def test_the_pipeline_agrees_with_the_hand_made_audit(real_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """analysis/audit.yaml: every entry written after reading the passages in the raw files."""
    cwd = Path.cwd()
    try:
        code = main(["--project", str(real_project), "claims", "--audit"])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr()
    assert code == 0, out.out[-4000:]
    assert "0 differ" in out.err
    (n_audited, n_agree) = q(real_project, "SELECT count(audit_verdict), count(*) FILTER (WHERE audit_agrees) FROM claims")[0]
    assert n_audited >= 80 and n_agree == n_audited


def test_evidence_links_open_their_passage(real_project: Path) -> None:
    rows = q(
        real_project,
        """SELECT e.claim_id, e.doc_id, e.kind, e.link, d.timed, t.has_id
           FROM claim_evidence e JOIN documents d USING (doc_id) LEFT JOIN tweets t USING (doc_id)""",
    )
    assert rows
    for claim_id, doc_id, kind, link, timed, has_id in rows:
        if link and "t=" in link.split("?", 1)[-1]:
            assert timed, f"{claim_id}: {link} puts a second into untimed {doc_id}"
            assert not re.search(r"[?&]t=[01]s", link), f"{claim_id}: {link} is a default second"
        if kind == "tweet":
            if has_id:
                assert link and re.search(r"/status/\d+$", link), (claim_id, doc_id, link)
            else:
                assert link is None, (claim_id, doc_id, link)  # no copy has a status id: no link that opens nothing


def test_one_post_is_one_row(real_project: Path) -> None:
    # the June 2025 posts of the month-late day files merged into their dumped copies, with the rule recorded
    (late,) = q(real_project, "SELECT count(*) FROM merges WHERE merged_path LIKE '%karpathy_wiki/2025/7.%' OR kept_path LIKE '%karpathy_wiki/2025/7.%'")[0]
    assert late >= 15
    (ids,) = q(real_project, "SELECT count(*) FROM tweets WHERE NOT has_id")[0]
    (dups,) = q(
        real_project,
        """SELECT count(*) FROM tweets a JOIN tweets b ON a.tweet_id < b.tweet_id
           AND lower(left(regexp_replace(a.text, '\\s+', ' ', 'g'), 80)) = lower(left(regexp_replace(b.text, '\\s+', ' ', 'g'), 80))
           AND length(a.text) > 60""",
    )[0]
    assert dups == 0 and ids < 70
    # Simon Willison's references are distinct posts, not copies
    (n,) = q(real_project, "SELECT count(DISTINCT doc_id) FROM mentions WHERE entity_id = 'simon-willison' AND is_own")[0]
    assert n == 5


def test_search_finds_what_the_issue_asked_for(real_project: Path) -> None:
    """Issue 13's examples, as a new user types them: the tweet holding "bicycle for the mind" inside
    curly quotes, with and without --exact (KWIC finds it too); the essay titled "Software 2.0"
    first; results in the order of the score shown; no stop word marked on its own."""
    from pipelines.core.kwic import kwic
    from pipelines.core.search import search
    from pipelines.core.warehouse import connect

    con = connect(real_project / "warehouse" / "corpus.duckdb", read_only=True)
    try:
        bicycle = search(con, "bicycle for the mind")
        assert bicycle[0].doc_id == "tweet-1744179910347039080"
        assert bicycle[0].link == "https://x.com/karpathy/status/1744179910347039080"
        assert "tweet-1744179910347039080" in {h.doc_id for h in search(con, "bicycle for the mind", exact=True)}
        assert "tweet-1744179910347039080" in {ln["doc_id"] for ln in kwic(con, "bicycle for the mind")}
        assert search(con, "software 2.0")[0].doc_id == "blog-medium-software-2-0"
        for q in ("bicycle for the mind", "software 2.0", "vibe coding", "march of nines"):
            hits = search(con, q)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True), q
            marked = {m.lower() for h in hits for p in h.passages for m in re.findall(r"\[\[(.*?)\]\]", p.snippet)}
            assert not marked & {"the", "for", "of", "a"}, (q, marked & {"the", "for", "of", "a"})
        # a passage link carries its second only for a timed transcript
        for h in search(con, "march of nines") + search(con, "autonomy slider"):
            timed = con.execute("SELECT timed FROM documents WHERE doc_id = ?", [h.doc_id]).fetchone()[0]  # type: ignore[index]
            for p in h.passages:
                assert ("t=" in (p.link or "")) == bool(timed and p.start_s and p.start_s >= 1), (h.doc_id, p.link)
    finally:
        con.close()


def test_the_tweet_page_holds_every_own_tweet(real_project: Path) -> None:
    import json as _json

    page = (real_project / "reports" / "tweets.html").read_text(encoding="utf-8")
    data = _json.loads(re.search(r'<script type="application/json" id="tweets-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    (own,) = q(real_project, "SELECT count(*) FROM documents WHERE kind = 'tweet' AND is_own AND text IS NOT NULL")[0]
    assert len(data["tweets"]) == own > 500
    (no_id,) = q(real_project, "SELECT count(*) FROM documents d JOIN tweets t USING (doc_id) WHERE d.is_own AND NOT t.has_id")[0]
    assert sum(1 for t in data["tweets"] if t["url"] is None) >= no_id
