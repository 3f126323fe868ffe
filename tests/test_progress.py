"""Progress a person can watch: plain lines in a pipe, a live bar on a terminal, silence on request;
coloured verdicts on a terminal only, and never with NO_COLOR."""

from __future__ import annotations

import io
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.core import progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_in_a_pipe_first_last_and_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORPUS_PROGRESS", raising=False)
    out = io.StringIO()
    t = progress.task("parse", 100, "files", stream=out, rate_of=progress.rate("files"))
    assert t.mode == "plain"
    for i in range(100):
        t.advance(1, f"f{i}.md")
    t.finish("100 files")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("  parse: 1/100 files") and lines[0].endswith("f0.md")
    assert any(line.startswith("  parse: 100/100 files") for line in lines)
    assert lines[-1] == "  parse: 100 files"
    assert len(lines) <= 4  # throttled: not one line per file


def test_a_live_bar_on_a_terminal_and_silence_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORPUS_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = FakeTTY()
    t = progress.task("nlp", 3, "documents", stream=tty)
    assert t.mode == "live"
    for _ in range(3):
        t.advance(1, "doc")
    t.finish("3 documents")
    assert "3/3" in tty.getvalue() and "nlp" in tty.getvalue()
    monkeypatch.setenv("CORPUS_PROGRESS", "off")
    quiet = io.StringIO()
    q = progress.task("nlp", 3, stream=quiet)
    q.advance(3)
    q.finish("done")
    assert quiet.getvalue() == ""


def _claims_project(tmp_path: Path) -> Path:
    from pipelines.core.schema import create_table

    root = tmp_path / "p"
    (root / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"))
    create_table(con, "claims")
    create_table(con, "claim_evidence")
    con.execute("INSERT INTO claims (claim_id, verdict, measured, expected, explanation) VALUES "
                "('a', 'contradicted', '5', '4', 'Found 5.'), ('b', 'supported', '1', '1', 'Found 1.')")
    con.close()
    return root


@pytest.mark.parametrize(("env", "coloured"), [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), ({}, False)])
def test_verdicts_are_coloured_on_a_terminal_only(tmp_path: Path, env: dict[str, str], coloured: bool,
                                                  capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.cli import main

    for k in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cwd = Path.cwd()
    try:
        assert main(["--project", str(_claims_project(tmp_path)), "claims"]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "contradicted" in out and "Found 5." in out
    import re

    assert bool(re.search(r"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*9[0-7]m", out)) is coloured  # a foreground colour
