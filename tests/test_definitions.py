"""The Dagster definitions: a snapshot of the graph the example project builds, and the asset
checks called as plain functions on small warehouses built from the schema registry.

The snapshot fails whenever an asset, check, job, schedule or sensor is added, removed or rewired:
update EXPECTED in the same commit, so the change is reviewed as a diff of this list.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, build_asset_check_context

from pipelines.core import warehouse as wh
from pipelines.core.schema import create_table
from pipelines.defs.claims import claims_have_verdicts_and_evidence, sentences_inside_documents
from pipelines.defs.location import build_defs
from pipelines.defs.resources import CorpusProject
from pipelines.defs.warehouse import documents_are_well_formed, snapshots_have_reasons

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "maren-holt"

_CORE = "documents, segments"
_CLAIMS_IN = ("citation_tallies, documents, first_uses, mentions, phrase_frequencies, phrase_hits, segments, "
              "sentences, snapshots, sources, timeline, tweets")
_BUILT = ("citation_tallies, claim_evidence, claims, coverage, coverage_by_kind, documents, {fetched}first_uses, "
          "lexicon_entities, lexicon_phrases, listings, mentions, merges, ngrams, parse_issues, phrase_frequencies, "
          "phrase_hits, published_warehouse, raw_files, report, segments, sentences, snapshots, sources, "
          "speaker_turns, timeline, tweets")
EXPECTED = [
    f"asset citation_tallies <- {_CORE}",
    f"asset claim_evidence <- {_CLAIMS_IN}",
    f"asset claims <- {_CLAIMS_IN}",
    f"asset coverage <- {_CLAIMS_IN}",
    f"asset coverage_by_kind <- {_CLAIMS_IN}",
    "asset documents <- raw_files",
    "asset fetched_sources",
    f"asset first_uses <- {_CORE}",
    f"asset lexicon_entities <- {_CORE}",
    f"asset lexicon_phrases <- {_CORE}",
    "asset listings <- raw_files",
    f"asset mentions <- {_CORE}",
    "asset merges <- raw_files",
    f"asset ngrams <- {_CORE}",
    "asset parse_issues <- raw_files",
    f"asset phrase_frequencies <- {_CORE}",
    f"asset phrase_hits <- {_CORE}",
    "asset published_warehouse <- citation_tallies, claim_evidence, claims, coverage, coverage_by_kind, documents, "
    "first_uses, listings, merges, ngrams, parse_issues, phrase_frequencies, segments, sentences, snapshots, sources, "
    "speaker_turns, timeline, tweets",
    "asset raw_files <- fetched_sources, youtube_transcript",
    "asset report <- published_warehouse",
    "asset segments <- raw_files",
    f"asset sentences <- {_CORE}",
    "asset snapshots <- raw_files",
    "asset sources <- raw_files",
    "asset speaker_turns <- raw_files",
    f"asset timeline <- {_CORE}",
    "asset tweets <- raw_files",
    "asset youtube_transcript [partitions: MHoltTalk01, MHoltTalk02]",
    # one check per claim of examples/maren-holt/analysis/claims.yaml, then the fixed checks
    "check claims:claim_bridge_literacy_posts_on_x",
    "check claims:claim_cites_otto_brandt",
    "check claims:claim_opinion_patience",
    "check claims:claim_parts_add_up",
    "check claims:claim_posts_on_x",
    "check claims:claim_quote_slow_concrete",
    "check claims:claim_slow_concrete_coined",
    "check claims:claim_slow_concrete_posts",
    "check claims:claim_talk_words",
    "check claims:claim_talks_count",
    "check claims:claims_have_verdicts_and_evidence",
    "check documents:documents_are_well_formed (blocking)",
    "check sentences:sentences_inside_documents (blocking)",
    "check snapshots:snapshots_have_reasons",
    "job corpus_everything: " + _BUILT.format(fetched="fetched_sources, "),
    "job corpus_ingest: " + _BUILT.format(fetched=""),
    "job corpus_report: report",
    "schedule daily_refresh: 0 6 * * * -> corpus_everything",
    "schedule weekly_report: 0 7 * * 1 -> corpus_report",
    "sensor inbox_sensor -> corpus_ingest",
]


def graph_lines(root: Path) -> list[str]:
    """The definitions of a project as one readable line per asset, check, job, schedule, sensor."""
    defs = build_defs(str(root))
    g = defs.resolve_asset_graph()
    lines = []
    for key in sorted(g.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = g.get(key)
        line = f"asset {key.to_user_string()}"
        if node.parent_keys:
            line += " <- " + ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        if node.partitions_def is not None:
            line += f" [partitions: {', '.join(node.partitions_def.get_partition_keys())}]"
        lines.append(line)
    for ck in sorted(g.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        blocking = g.get_check_spec(ck).blocking
        lines.append(f"check {ck.asset_key.to_user_string()}:{ck.name}" + (" (blocking)" if blocking else ""))
    for job in sorted(defs.jobs or [], key=lambda j: j.name):
        assets = job.selection.resolve(g)  # type: ignore[union-attr]
        lines.append(f"job {job.name}: {', '.join(sorted(k.to_user_string() for k in assets))}")
    for s in sorted(defs.schedules or [], key=lambda s: s.name):
        lines.append(f"schedule {s.name}: {s.cron_schedule} -> {s.job_name}")
    for s in sorted(defs.sensors or [], key=lambda s: s.name):
        lines.append(f"sensor {s.name} -> {', '.join(sorted(j.name for j in s.jobs))}")
    return lines


def test_the_graph_is_the_expected_one() -> None:
    got = graph_lines(EXAMPLE)
    assert got == EXPECTED, "the definitions changed; update EXPECTED:\n" + "\n".join(got)


# --------------------------------------------------------------------------- checks as functions


@pytest.fixture()
def project(tmp_path: Path) -> CorpusProject:
    (tmp_path / "warehouse").mkdir()
    return CorpusProject(root=str(tmp_path))


def _sql(corpus: CorpusProject, *statements: str) -> None:
    con = wh.connect(corpus.project.work_db)
    try:
        for st in statements:
            if st.startswith("create "):
                create_table(con, st.removeprefix("create "))
            else:
                con.execute(st)
    finally:
        con.close()


def _meta(result) -> dict:
    return {k: v.value for k, v in result.metadata.items()}


def test_documents_check(project: CorpusProject) -> None:
    _sql(project, "create documents",
         "INSERT INTO documents (doc_id, kind, text) VALUES ('a', 'tweet', 'hello'), ('b', 'video', 'words')")
    assert documents_are_well_formed(build_asset_check_context(), corpus=project).passed
    _sql(project, "INSERT INTO documents (doc_id, kind, text) VALUES ('c', 'blog', 'x'), ('d', 'paper', '  ')")
    bad = documents_are_well_formed(build_asset_check_context(), corpus=project)
    assert not bad.passed and _meta(bad) == {"empty_text": 1, "bad_kind": 1, "duplicate_ids": 0}


def test_snapshots_check(project: CorpusProject) -> None:
    _sql(project, "create snapshots",
         "INSERT INTO snapshots (snapshot_id, status, error) VALUES ('s1', 'accepted', NULL), ('s2', 'rejected', 'not UTF-8')")
    ok = snapshots_have_reasons(build_asset_check_context(), corpus=project)
    assert ok.passed and _meta(ok) == {"without_reason": 0, "rejected": 1}
    _sql(project, "INSERT INTO snapshots (snapshot_id, status, error) VALUES ('s3', 'failed', NULL)")
    bad = snapshots_have_reasons(build_asset_check_context(), corpus=project)
    assert not bad.passed and bad.severity == AssetCheckSeverity.WARN and _meta(bad)["without_reason"] == 1


def test_sentences_check(project: CorpusProject) -> None:
    _sql(project, "create documents",
         "INSERT INTO documents (doc_id, kind, text, word_count) VALUES ('a', 'tweet', 'One. Two.', 2), ('b', 'tweet', 'Three', 1)",
         "CREATE TABLE sentences (doc_id VARCHAR, sent_id INTEGER, start_char INTEGER, end_char INTEGER)",
         "INSERT INTO sentences VALUES ('a', 0, 0, 4), ('a', 1, 5, 9), ('b', 0, 0, 5)")
    assert sentences_inside_documents(build_asset_check_context(), corpus=project).passed
    _sql(project, "INSERT INTO sentences VALUES ('a', 2, 5, 40), ('gone', 0, 0, 3)",
         "INSERT INTO documents (doc_id, kind, text, word_count) VALUES ('c', 'tweet', 'Four', 1)")
    bad = sentences_inside_documents(build_asset_check_context(), corpus=project)
    assert not bad.passed
    assert _meta(bad) == {"outside_document": 1, "orphan_sentences": 1, "documents_without_sentences": 1}


def test_claims_check(project: CorpusProject) -> None:
    _sql(project, "create claims",
         "INSERT INTO claims (claim_id, type, verdict, explanation, evidence_count) VALUES "
         "('a', 'phrase_count', 'supported', 'Found 3.', 3), ('b', 'corpus_size', 'contradicted', 'Found 1.', 0)")
    assert claims_have_verdicts_and_evidence(build_asset_check_context(), corpus=project).passed
    _sql(project, "INSERT INTO claims (claim_id, type, verdict, explanation, evidence_count) VALUES "
         "('c', 'citation', 'supported', 'Cited.', 0), ('d', 'quote', NULL, NULL, 0)")
    bad = claims_have_verdicts_and_evidence(build_asset_check_context(), corpus=project)
    assert not bad.passed and _meta(bad) == {"without_verdict_or_explanation": 1, "supported_without_evidence": 1}
