"""`corpus sql`: read-only SQL and saved queries on the published warehouse, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core import warehouse as wh
from pipelines.core.saved_queries import find_query, saved_queries

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "warehouse").mkdir(parents=True)
    shutil.copytree(REPO / "analysis" / "queries", root / "analysis" / "queries")
    con = duckdb.connect(str(root / "warehouse" / "corpus.duckdb"))
    wh.create_table(con, "documents")
    con.execute(
        "INSERT INTO documents (doc_id, kind, text, is_own) VALUES ('t1', 'tweet', 'a, \"b\"', true), "
        "('t2', 'tweet', 'c', true), ('v1', 'video', 'd', true)"
    )
    con.execute(
        "CREATE TABLE phrase_frequencies AS SELECT * FROM (VALUES "
        "('vibe-coding', 'tweet', DATE '2025-02-01', 3, 4, 1.5), ('from-scratch', 'tweet', DATE '2025-02-01', 9, 9, 2.0)) "
        "t(phrase_id, kind, period_month, documents, hits, per_10k_words)"
    )
    con.close()
    return root


def run(project: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    cwd = Path.cwd()
    try:
        code = main(["--project", str(project), "sql", *args])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_statement_as_csv_and_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(project, "SELECT doc_id, text FROM documents WHERE kind = 'tweet' ORDER BY doc_id", "--csv", capsys=capsys)
    assert code == 0 and "2 row(s)" in err
    assert list(csv.reader(io.StringIO(out))) == [["doc_id", "text"], ["t1", 'a, "b"'], ["t2", "c"]]
    code, out, _ = run(project, "SELECT kind, count(*) AS n FROM documents GROUP BY kind ORDER BY kind", "--json", capsys=capsys)
    assert code == 0 and json.loads(out) == [{"kind": "tweet", "n": 2}, {"kind": "video", "n": 1}]


def test_writes_are_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(project, "DELETE FROM documents", capsys=capsys)
    assert code == 1 and "read-only" in err
    con = duckdb.connect(str(project / "warehouse" / "corpus.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM documents").fetchone() == (3,)


def test_a_saved_query_with_a_parameter(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(project, "--query", "phrase_trend", "--param", "phrase=vibe-coding", "--json", capsys=capsys)
    assert code == 0
    assert [r["documents"] for r in json.loads(out)] == [3]
    code, out, _ = run(project, "--query", "phrase_trend", "--json", capsys=capsys)  # the documented default
    assert [r["documents"] for r in json.loads(out)] == [9]


def test_mistakes_name_what_is_wrong(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(project, "--query", "no_such_query", capsys=capsys)
    assert code == 64 and "no saved query 'no_such_query'" in err and "phrase_trend" in err
    code, _, err = run(project, "--query", "phrase_trend", "--param", "phrse=x", capsys=capsys)
    assert code == 64 and "takes no such parameter (it takes: phrase)" in err
    code, _, err = run(project, "SELEC nothing", capsys=capsys)
    assert code == 1 and "SQL failed" in err


def test_every_saved_query_documents_the_variables_it_reads() -> None:
    import re

    queries = saved_queries(REPO / "analysis" / "queries")
    assert len(queries) >= 10
    for q in queries:
        assert q.title, q.path
        read = set(re.findall(r"getvariable\('(\w+)'\)", q.sql()))
        assert read == set(q.params), f"{q.path.name}: reads {read}, documents {set(q.params)}"
    assert find_query(REPO / "analysis" / "queries", "04_phrase_trend").params["phrase"].default == "from-scratch"


def test_a_plain_table_in_a_pipe(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(project, "SELECT doc_id, kind FROM documents ORDER BY doc_id", capsys=capsys)
    assert code == 0 and out.splitlines() == ["doc_id\tkind", "t1\ttweet", "t2\ttweet", "v1\tvideo"]


def test_every_option_has_help_with_its_default_and_every_command_examples(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from pipelines.cli import EXIT_CODES, build_parser

    ap = build_parser()
    subs = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    for name, sp in subs.choices.items():
        assert sp.epilog and "examples:" in sp.epilog, name
        for action in sp._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"corpus {name} {action.option_strings or action.dest}: no help text"
        text = sp.format_help()
        for action in sp._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) and action.help:
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action.option_strings)
    assert "exit status" in ap.format_help() and EXIT_CODES.splitlines()[1].strip() in ap.format_help()
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("corpus ")
