"""Readers during runs: while `corpus run` builds and then rebuilds the warehouse, a reader process
opens warehouse/corpus.duckdb read-only in a loop and checks every answer against the ``_publish_info``
table written in the same publish. Zero lock errors, and every answer is one complete state, old or new.

Mechanism (docs/reliability.md): runs write warehouse/work.duckdb only; publish copies it beside the
published file, fsyncs and renames it over corpus.duckdb. A reader holds the inode it opened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import child_env
from conftest import make_offline_project as make_project
from conftest import start_corpus_run as corpus_run

from pipelines.cli import main

NEW_TWEET_CSV = "tweet_id,text,created_at\n1000000000000000077,A post dropped while readers were reading,2023-06-06 10:00:00\n"

READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    db, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
    deadline = time.monotonic() + float(sys.argv[4])  # bounded in time ...
    max_reads = int(sys.argv[5])                       # ... and in reads
    reads = 0
    with open(out, "w") as log:
        while not os.path.exists(stop) and time.monotonic() < deadline and reads < max_reads:
            if not os.path.exists(db):
                time.sleep(0.02)
                continue
            reads += 1
            rec = {"read": reads}
            t0 = time.monotonic()
            try:
                con = duckdb.connect(db, read_only=True)
                try:
                    info = con.execute("SELECT table_name, row_count, published_at::VARCHAR FROM _publish_info").fetchall()
                    rec["published_at"] = sorted({p for _, _, p in info})
                    rec["mismatches"] = []
                    for table, recorded, _ in info:
                        (actual,) = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                        if actual != recorded:
                            rec["mismatches"].append([table, recorded, actual])
                    rec["documents"] = con.execute("SELECT count(*) FROM documents").fetchone()[0]
                    rec["orphans"] = con.execute(
                        "SELECT (SELECT count(*) FROM tweets t WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = t.doc_id))"
                        " + (SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source_id = d.source_id))"
                    ).fetchone()[0]
                finally:
                    con.close()
            except Exception as e:
                rec["error"] = f"{type(e).__name__}: {e}"
            rec["seconds"] = round(time.monotonic() - t0, 4)
            log.write(json.dumps(rec) + "\\n")
            log.flush()
            time.sleep(0.05)
    """
)


@pytest.mark.slow
def test_readers_never_wait_and_always_see_one_complete_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path)
    db = root / "warehouse" / "corpus.duckdb"
    stop, reads_log, runs_log = tmp_path / "stop", tmp_path / "reads.jsonl", tmp_path / "runs.log"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(stop), str(reads_log), "150", "20000"], env=child_env()
    )
    cwd = Path.cwd()
    try:
        # Run 1 (in this process) publishes the first state while the reader already polls.
        try:
            assert main(["--project", str(root), "run", "--offline"]) == 0
        finally:
            os.chdir(cwd)
        # A reader that opened the first state before run 2 keeps it, whole, after the swap.
        held = duckdb.connect(str(db), read_only=True)
        first = held.execute("SELECT count(*) FROM documents").fetchone()[0]  # type: ignore[index]

        # Run 2 (a child process) has new input. It pauses 3 s in the middle of writing the new file,
        # so the reader keeps reading while a half-written database exists (a publish that wrote in
        # place would fail here), and a third run surely overlaps it: that one refuses at once (exit 3).
        (root / "raw" / "inbox" / "dumps" / "new.csv").write_text(NEW_TWEET_CSV)
        flag = tmp_path / "run2-publishing"
        run2 = corpus_run(root, runs_log, CORPUS_FAULT="publish:mid_copy:sleep", CORPUS_FAULT_SLEEP="3", CORPUS_FAULT_FLAG=str(flag))
        deadline = time.monotonic() + 90
        while not flag.exists() and run2.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flag.exists(), runs_log.read_text(errors="replace")[-3000:]
        capsys.readouterr()
        try:
            assert main(["--project", str(root), "run", "--offline"]) == 3
        finally:
            os.chdir(cwd)
        assert "another corpus run is writing the warehouse" in capsys.readouterr().err
        assert run2.wait(timeout=120) == 0, runs_log.read_text(errors="replace")[-3000:]
        assert held.execute("SELECT count(*) FROM documents").fetchone()[0] == first  # type: ignore[index]
        held.close()
    finally:
        stop.touch()
        reader.wait(timeout=30)

    reads = [json.loads(line) for line in reads_log.read_text().splitlines()]
    errors = [r for r in reads if "error" in r]
    assert errors == [], errors[:5]  # no lock errors, no half-written file, nothing else
    assert len(reads) >= 50
    assert [r for r in reads if r["mismatches"] or r["orphans"]] == []  # each answer from one complete state
    assert all(len(r["published_at"]) == 1 for r in reads)
    states = [r["published_at"][0] for r in reads]
    assert states == sorted(states)  # old, then new: never back
    seen = {r["published_at"][0]: r["documents"] for r in reads}
    assert len(seen) == 2 and sorted(seen.values()) == [first, first + 1]  # both publishes were read
    assert max(r["seconds"] for r in reads) < 5  # a read never waits on the writer
