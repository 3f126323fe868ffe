"""The benchmark harness (bench/) at a tiny scale: it runs end to end, and the pipeline's counts of
the planted phrases and citations are exact. No timing is asserted."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_generator_is_deterministic_and_plants_only_what_it_records(tmp_path: Path) -> None:
    gen = _load("generate")
    a = gen.generate(tmp_path / "a", 0.01)
    b = gen.generate(tmp_path / "b", 0.01)
    assert _tree_hash(tmp_path / "a" / "raw") == _tree_hash(tmp_path / "b" / "raw")
    assert a["phrases"] == b["phrases"] and a["entities"] == b["entities"]
    assert a["planted_units"] > 0 and a["decoys"] > 0
    # every format the brief names is there
    names = [p.name for p in (tmp_path / "a" / "raw" / "inbox").rglob("*") if p.is_file()]
    assert "tweets.js" in names and "feed.xml" in names
    assert any(n.endswith(".youtube-transcript.json") for n in names)
    assert any(n.endswith(".vtt") for n in names) and any(n.endswith(".markdown") for n in names)
    assert any(n.endswith(".txt") for n in names)
    # the background vocabulary holds no word of a lexicon form, alias or context word (bar stop words)
    import yaml

    lexicon = yaml.safe_load((REPO / "analysis" / "lexicon.yaml").read_text())
    vocab = gen.Vocab(lexicon)
    assert not set(vocab.words) & vocab.banned
    assert {"scratch", "licklider", "factorio", "evolution"} <= vocab.banned


def test_baseline_counts_match_the_generator(tmp_path: Path) -> None:
    gen = _load("generate")
    base = _load("baseline")
    run = _load("run")
    info = gen.generate(tmp_path / "p", 0.01)
    counts = base.run(tmp_path / "p", tmp_path / "b.duckdb")
    result = run.compare(info, counts)
    assert result["exact"], result["mismatches"]


@pytest.mark.slow
def test_harness_runs_at_tiny_scale_and_counts_are_exact(tmp_path: Path) -> None:
    out, results, md = tmp_path / "out", tmp_path / "results", tmp_path / "RESULTS.md"
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--scales",
            "0.01",
            "--out",
            str(out),
            "--results",
            str(results),
            "--results-md",
            str(md),
            "--repeats",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((results / "x0.01.json").read_text())
    assert res["check_cold"]["exact"], res["check_cold"]["mismatches"]
    assert res["check_newfile"]["exact"], res["check_newfile"]["mismatches"]
    assert res["baseline"]["check"]["exact"]
    for run in ("cold", "nochange", "newfile"):
        stages = res["runs"][run]["stages"]
        assert set(stages) >= {"parse", "load", "nlp", "derived", "claims", "publish", "report", "dagster"}
        assert res["runs"][run]["wall"] > 0 and res["runs"][run]["peak_rss_mb"] > 0
    # content hashes: nothing re-processed without changes; only the new post with one new file
    assert res["runs"]["nochange"]["nlp"]["processed"] == 0
    assert res["runs"]["newfile"]["nlp"]["processed"] == 1
    assert res["ratio_cold_to_baseline"] > 0
    assert {
        "search: from scratch",
        "kwic: phrase id from-scratch",
        "sql: phrase_frequencies all time",
    } <= set(res["queries"])
    text = md.read_text()
    assert "| x0.01 |" in text and "Exact-count check after the cold run: **passed**" in text
