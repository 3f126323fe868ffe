"""`corpus init` makes a project another thinker's corpus runs in at once; the command line takes
--project before or after the command and keeps exit 2 for invalid configuration only."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.cli import USAGE, main

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Notes</title>
  <link href="https://someone.example/"/>
  <id>https://someone.example/</id>
  <updated>2024-03-02T10:00:00Z</updated>
  <entry>
    <title>On compost</title>
    <link href="https://someone.example/notes/compost"/>
    <id>https://someone.example/notes/compost</id>
    <updated>2024-03-02T10:00:00Z</updated>
    <author><name>Someone</name></author>
    <content type="html">&lt;p&gt;A compost heap is a slow machine that turns peelings into soil.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Bees, by a guest</title>
    <link href="https://someone.example/notes/bees"/>
    <id>https://someone.example/notes/bees</id>
    <updated>2024-02-01T10:00:00Z</updated>
    <author><name>Pat Guest</name></author>
    <content type="html">&lt;p&gt;Bees visit the clover first and the roses last.&lt;/p&gt;</content>
  </entry>
</feed>
"""
POSTS = """id,created_at,text
1001,2024-01-05 10:00:00,Turned the compost heap today. It was warm inside.
1002,2024-01-09 09:30:00,Rain again. The worms are happy.
"""


def init(root: Path, *extra: str) -> int:
    return main(["init", str(root), "--thinker", "Someone", "--twitter", "someone", "--github", "someone-gh",
                 "--youtube-channel", "@someone", "--feed", "https://someone.example/atom/", *extra])


def test_init_then_two_files_give_a_report_naming_the_thinker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "x"
    assert init(root) == 0
    catalog = yaml.safe_load((root / "analysis" / "catalog.yaml").read_text())
    assert catalog["thinker"] == {"name": "Someone", "twitter": "someone", "github": "someone-gh",
                                  "youtube_channel": "@someone", "aliases": []}
    assert [(s["id"], s["kind"]) for s in catalog["sources"]] == [("blog-someone-example", "blog_feed"), ("tweets-someone", "tweet_archive")]
    assert sorted(p.name for p in (root / "analysis").iterdir()) == ["catalog.yaml", "claims.yaml", "lexicon.yaml"]
    assert (root / "raw" / "inbox").is_dir() and not any((root / "raw" / "inbox").iterdir())
    assert main(["validate", "--project", str(root)]) == 0
    assert main(["status", "--project", str(root)]) == 4  # no warehouse yet
    out = capsys.readouterr().out
    assert "none collected yet" in out and "blog-someone-example (blog_feed)" in out and "tweets-someone (tweet_archive)" in out

    (root / "raw" / "inbox" / "feed.atom").write_text(FEED)
    (root / "raw" / "inbox" / "posts.csv").write_text(POSTS)
    cwd = Path.cwd()
    try:
        assert main(["run", "--project", str(root), "--offline"]) == 0
    finally:
        os.chdir(cwd)
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"), read_only=True)
    try:
        verdicts = dict(con.execute("SELECT claim_id, verdict FROM claims").fetchall())
        docs = con.execute("SELECT title, source_id, is_own FROM documents WHERE kind = 'blog_post' ORDER BY title").fetchall()
    finally:
        con.close()
    # 3 documents of hers (a post, two tweets); the guest post is not hers; 23 words, not 1,000
    assert verdicts == {"own-documents": "supported", "blog-posts": "supported", "tweets": "supported", "own-words": "lower_bound"}
    assert docs == [("Bees, by a guest", "blog-someone-example", False), ("On compost", "blog-someone-example", True)]
    html = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Someone: corpus report</h1>" in html and "supported" in html and "Karpathy" not in html


def test_init_refuses_an_existing_project_and_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "x"
    assert init(root) == 0
    before = (root / "analysis" / "catalog.yaml").read_text()
    assert init(root) == USAGE
    assert "already a project" in capsys.readouterr().err
    assert (root / "analysis" / "catalog.yaml").read_text() == before
    assert main(["init", str(tmp_path / "y"), "--thinker", "Y", "--twitter", "not a handle"]) == USAGE
    assert "--twitter" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "z"), "--thinker", "Z", "--feed", "ftp://z.example/feed"]) == USAGE
    assert not (tmp_path / "y").exists() and not (tmp_path / "z").exists()


def test_project_before_or_after_the_command_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "x"
    assert init(root) == 0
    assert main(["--project", str(root), "validate"]) == 0
    assert main(["validate", "--project", str(root)]) == 0
    for argv in (["run", "--project", str(root), "--no-such-option"], ["--project", str(root)], ["kwic", "--project", str(root)]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == USAGE, argv  # usage errors are not exit 2
    assert main(["claims", "--project", str(root)]) == 4  # nothing published yet
    assert main(["--project", str(tmp_path / "nowhere"), "status"]) == USAGE
    assert "no such folder" in capsys.readouterr().err
