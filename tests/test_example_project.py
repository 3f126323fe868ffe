"""The second example project (examples/maren-holt, an invented thinker): the whole pipeline runs on
it and every verdict, author and feed post comes out as its files say, with nothing of the default
thinker in its tables, report or Dagster definitions."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import query_published as query

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "maren-holt"

VERDICTS = {
    "slow-concrete-posts": "supported",  # her two posts; the guest post says it too but is not hers
    "slow-concrete-coined": "supported",
    "bridge-literacy-posts-on-x": "contradicted",  # one own post; the repost is not hers; all 4 collected
    "cites-otto-brandt": "supported",  # the talk by full name, the post by "Brandt" beside "bridge"
    "quote-slow-concrete": "supported",
    "talk-words": "supported",
    "talks-count": "lower_bound",  # one of two talks collected
    "posts-on-x": "supported",
    "parts-add-up": "inconsistent",
    "opinion-patience": "not_checkable",
}


def copy_example(tmp_path: Path) -> Path:
    root = tmp_path / "maren-holt"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", "reports", ".dagster_home", "store"))
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("example"))
    cwd = Path.cwd()
    try:
        assert main(["run", "--project", str(root), "--offline"]) == 0  # --project after the command
    finally:
        os.chdir(cwd)
    return root


def test_every_verdict(built: Path) -> None:
    assert dict(query(built, "SELECT claim_id, verdict FROM claims")) == VERDICTS
    measured = dict(query(built, "SELECT claim_id, measured FROM claims"))
    assert measured["slow-concrete-posts"] == "2" and measured["bridge-literacy-posts-on-x"] == "1"
    assert measured["slow-concrete-coined"] == "2023-09-14" and measured["talks-count"] == "1"


def test_the_audit_agrees(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(built), "claims", "--audit"]) == 0
    assert "10 claims audited, 10 agree, 0 differ" in capsys.readouterr().err


def test_authors_decide_whose_words(built: Path) -> None:
    rows = {title: (author, own) for title, author, own in query(built, "SELECT title, author, is_own FROM documents WHERE kind = 'blog_post'")}
    assert rows == {
        "Slow concrete": ("Maren Holt", True),
        "Bridge literacy for everyone": ("Maren Holt", True),
        "Gravel paths and slow concrete": ("Pat Ferrow", False),  # a guest post in her feed
        "Inspection days": (None, True),  # no author: her blog's post
    }
    assert query(built, "SELECT count(*) FILTER (WHERE is_own), count(*) FROM documents WHERE kind = 'tweet'") == [(4, 5)]


def test_feed_posts_belong_to_the_feed_without_entries(built: Path) -> None:
    by_title = dict(query(built, "SELECT title, source_id FROM documents WHERE kind = 'blog_post'"))
    assert by_title == {
        "Slow concrete": "blog-slow-concrete",  # the one post with an entry of its own
        "Bridge literacy for everyone": "blog-maren",
        "Gravel paths and slow concrete": "blog-maren",
        "Inspection days": "blog-maren",  # a Markdown file whose URL lies on the feed's site
    }
    assert query(built, "SELECT count(*) FROM sources WHERE NOT in_catalog") == [(0,)]
    cov = {r[0]: r[1:] for r in query(built, "SELECT source_id, status, documents FROM coverage")}
    assert cov["blog-maren"] == ("collected", 4)
    assert cov["video-river-crossings"][0] == "missing" and cov["gap-lecture-series"][0] == "known_gap"
    assert "uncatalogued" not in {s for s, _ in cov.values()}


def test_nothing_of_the_default_thinker(built: Path) -> None:
    assert sorted(r[0] for r in query(built, "SELECT phrase_id FROM lexicon_phrases")) == ["bridge-literacy", "slow-concrete"]
    assert [r[0] for r in query(built, "SELECT entity_id FROM lexicon_entities")] == ["otto-brandt"]
    html = (built / "reports" / "index.html").read_text(encoding="utf-8")
    md = (built / "reports" / "claims.md").read_text(encoding="utf-8")
    assert "<title>Maren Holt: corpus report" in html and "<h1>Maren Holt: corpus report</h1>" in html
    assert md.startswith("# Maren Holt: claims report")
    for text in (html, md):
        assert "Karpathy" not in text and "karpathy" not in text
        assert "80% coverage" not in text  # the default profile's own figure


def test_status_lists_the_missing_talk(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--project", str(built)]) == 0
    out = capsys.readouterr().out
    assert "catalog sources not collected (1):" in out and "video-river-crossings (video): River crossings" in out
    assert main(["status", "--project", str(built), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["source_id"] for m in data["missing_sources"]] == ["video-river-crossings"]
    docs = query(built, "SELECT count(*), sum(word_count) FROM documents")[0]
    assert (data["documents"]["total"], data["documents"]["words"]) == docs
    assert data["verdicts"] == dict(query(built, "SELECT verdict, count(*) FROM claims GROUP BY 1"))


def test_dagster_definitions_are_the_projects(built: Path) -> None:
    from pipelines.defs.fetch import build_youtube_transcript  # noqa: F401 - the factory the location uses
    from pipelines.defs.location import build_defs

    defs = build_defs(str(built))
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys if k.name.startswith("claim_")}
    assert checks == {"claim_" + cid.replace("-", "_") for cid in VERDICTS}
    videos = defs.resolve_assets_def("youtube_transcript").partitions_def
    assert videos is not None and videos.get_partition_keys() == ["MHoltTalk01", "MHoltTalk02"]  # the Known Gap has none
    docs = defs.resolve_assets_def("documents")
    assert "Maren Holt's corpus" in next(s.description for s in docs.specs if s.key.path == ["documents"])
