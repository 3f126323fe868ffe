"""The fuzzer in CI (issue 18): a few thousand seeded mutations of the synthetic seeds in bench/fuzz.py,
every format, through ``ingest.parse_path`` with a real parse cache, each in a worker process with a
5 s limit. Zero escaped exceptions, dead workers, inputs over the limit, vetting violations and
re-encodings that lose their structure. The long run is ``uv run python bench/fuzz.py --inputs 100000``
(figures in docs/reliability.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import fuzz  # noqa: E402  (bench/ on sys.path, so that worker processes can import it by name too)

from pipelines.core.parsers import all_parsers  # noqa: E402
from pipelines.core.records import ParseResult  # noqa: E402

SMOKE_INPUTS = 4000


def test_every_seed_parses_as_its_format(tmp_path: Path) -> None:
    (tmp_path / "raw" / "inbox").mkdir(parents=True)
    outcomes = {name: fuzz._pristine(name, tmp_path) for name in fuzz.SEEDS}
    bad = {name: (o.get("status"), o.get("error")) for name, o in outcomes.items()
           if o.get("status") not in ("accepted", "metadata", "skipped") or o.get("escaped")}
    assert bad == {}
    specs = {o["format"] for o in outcomes.values()}
    assert {p.name for p in all_parsers()} - specs == {"binary"}  # every parser has a seed (binary files only refuse)
    assert len({o["result"].format for o in outcomes.values()}) >= 30  # and every shape of its output
    for name, o in outcomes.items():
        result: ParseResult = o["result"]
        assert fuzz.violations(o["status"], o["error"], result, fuzz.datetime.now(fuzz.UTC)) == [], name
        assert not any(i.severity == "error" for i in result.issues), (name, result.issues)


def test_inputs_are_reproducible() -> None:
    assert fuzz.make_input(5, 123, 4096) == fuzz.make_input(5, 123, 4096)
    assert fuzz.make_input(5, 123, 4096) != fuzz.make_input(6, 123, 4096)


@pytest.mark.parametrize("bad", [
    ("control character in a title", lambda r: setattr(r.documents[0], "title", "a\x1bb")),
    ("non-finite cue time", lambda r: setattr(r.documents[0].segments[0], "start_s", float("nan"))),
    ("negative count", lambda r: setattr(r.documents[0].tweet, "like_count", -1)),
    ("date not flagged", lambda r: setattr(r.documents[0], "published_at", fuzz.datetime(2199, 1, 1, tzinfo=fuzz.UTC))),
    ("lone surrogate", lambda r: setattr(r.documents[0], "text", "x\ud800")),
], ids=lambda b: b[0])
def test_the_oracle_sees_each_kind_of_violation(tmp_path: Path, bad: tuple) -> None:
    (tmp_path / "raw" / "inbox").mkdir(parents=True)
    name = "archive/data/tweets.js" if bad[0] == "negative count" else "talks/talk_IIIIIIIIIII.vtt"
    o = fuzz._pristine(name, tmp_path)
    result: ParseResult = o["result"]
    assert fuzz.violations("accepted", None, result, fuzz.datetime.now(fuzz.UTC)) == []
    bad[1](result)
    assert fuzz.violations("accepted", None, result, fuzz.datetime.now(fuzz.UTC)) != []


def test_fuzz_smoke() -> None:
    report = fuzz.run(SMOKE_INPUTS, seed=20261201, workers=2, limit=5.0, max_run=256 * 1024, memory_mb=2048)
    text = fuzz.format_report(report, 20261201, 5.0)
    assert report.inputs == SMOKE_INPUTS
    assert min(report.per_format.values()) >= SMOKE_INPUTS // len(fuzz.SEEDS) - 1
    assert report.escaped == [], text
    assert report.dead_workers == [], text
    assert report.over_time_limit == [], text
    assert report.violations == [], text
    assert report.reencodings > 0 and report.reencodings_changed == [], text
