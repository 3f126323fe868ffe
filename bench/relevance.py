"""The relevance benchmark: does `corpus search` find what an analyst asks for, and how fast?

    uv run python bench/relevance.py --scales 1,100          # CORPUS_REAL_DIR or --corpus names the real corpus

``bench/relevance/judgments.yaml`` holds the queries (titles, famous phrases, coined terms, people
and works, ideas in other words) and, for each, the documents or passages judged relevant after
reading the real corpus. Ids only: a passage is named by its document and an *anchor*, the first
12 hex digits of the sha1 of the 6 normalised words (``textnorm.norm_words``) it starts with, so
no corpus text is in this repository and a judgement survives a parser change that moves offsets.

For each scale it builds (or brings up to date, incrementally) a project under ``bench/out/``:

* ``rel-x1``: the shipped ``analysis/`` and a copy of the real corpus in ``raw/inbox/``;
* ``rel-x100``: the same plus the synthetic 100x corpus of ``bench/generate.py`` (hard links to
  ``bench/out/x100``, generated if missing), so the judged documents must be found among 100
  times as much text (without ``claims.yaml``: search does not read the claims);

runs ``corpus run --offline`` on it, and then, on the published warehouse, in one process:

* **passage search**: ``pipelines.core.search.search`` (limit 10);
* **baseline**: plain DuckDB ``match_bm25`` over whole documents (the warehouse's
  ``fts_main_documents`` index: title + text, Porter stemmer, no stop-word list), default
  parameters, best 10 documents by score.

Metrics, per query then averaged: **recall@3** = relevant items among the first 3 results /
min(3, relevant items); **MRR@10** = 1 / rank of the first relevant result (0 if none in 10).
A result is a document; it matches a judged document when the ids are equal (a group of ids
stands for copies of one item; a copy that passage search folds into a result, and shows with it,
counts too), and a judged passage when it is that document and, for passage search, one of the
passages it shows holds the anchor. The baseline names documents only, so at
document level (the ``doc`` rows) a judged passage counts as found when its document is; the
``passage`` row holds passage search to the stricter rule. Latency: each query is run
``--repeats`` times after one warm-up; the per-query median, then the median and the maximum
over queries. Results go to ``bench/results/relevance.json`` and into ``bench/RESULTS.md``
between the ``relevance:begin``/``relevance:end`` markers.

``--show`` prints each judged passage's context from the 1x warehouse (to check a judgement by
eye); ``anchor DOC OFFSET`` prints the anchor of the passage starting at that offset.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from pipelines.core.textnorm import norm_words  # noqa: E402

JUDGMENTS = BENCH / "relevance" / "judgments.yaml"
RESULTS_JSON = BENCH / "results" / "relevance.json"
RESULTS_MD = BENCH / "RESULTS.md"
BEGIN, END = "<!-- relevance:begin -->", "<!-- relevance:end -->"
ANCHOR_WORDS = 6
CATEGORIES = ["title", "phrase", "coined", "people", "idea"]


# --------------------------------------------------------------------------- judgements


@dataclass(frozen=True)
class Alt:
    doc: str
    anchor: str | None = None
    at: int | None = None


@dataclass(frozen=True)
class Item:
    """One relevant item: found when any of its alternatives is (copies of one text, or several
    passages of one document that say the same thing)."""

    alts: tuple[Alt, ...]

    @property
    def docs(self) -> tuple[str, ...]:
        return tuple(a.doc for a in self.alts)


@dataclass(frozen=True)
class Query:
    id: str
    category: str
    query: str
    relevant: tuple[Item, ...]


def load_judgments(path: Path = JUDGMENTS) -> list[Query]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out, seen = [], set()
    for i, q in enumerate(data.get("queries") or []):
        where = f"{path.name}: query {i + 1}"
        qid = q.get("id")
        if not qid or qid in seen:
            raise ValueError(f"{where}: id missing or repeated ({qid!r})")
        seen.add(qid)
        if q.get("category") not in CATEGORIES:
            raise ValueError(f"{where} ({qid}): category must be one of {CATEGORIES}, not {q.get('category')!r}")
        items = []
        for j, r in enumerate(q.get("relevant") or []):
            items.append(_item(r, f"{where} ({qid}): relevant item {j + 1}"))
        if not items or not str(q.get("query") or "").strip():
            raise ValueError(f"{where} ({qid}): a query needs its text and at least one relevant item")
        out.append(Query(qid, q["category"], str(q["query"]), tuple(items)))
    return out


def _item(r: dict[str, Any], where: str) -> Item:
    """``{doc: ID}``, ``{doc: [ID, ...]}`` (copies), ``{doc: ID, anchor: A, at: N}`` (a passage) or
    ``{any: [...]}`` (alternatives of those)."""
    if "any" in r:
        alts = [a for x in r["any"] for a in _item(x, where).alts]
    else:
        docs = r.get("doc")
        docs = docs if isinstance(docs, list) else [docs]
        if not all(isinstance(d, str) and d for d in docs):
            raise ValueError(f"{where}: no doc")
        if r.get("anchor") and len(docs) != 1:
            raise ValueError(f"{where}: a passage names one document")
        alts = [Alt(d, r.get("anchor"), r.get("at")) for d in docs]
    if not alts:
        raise ValueError(f"{where}: empty")
    return Item(tuple(alts))


def anchor_at(text: str, offset: int) -> tuple[str, int]:
    """The anchor of the passage starting at the first normalised word at or after ``offset``."""
    words, spans = norm_words(text)
    i = next((k for k, (a, _) in enumerate(spans) if a >= offset), None)
    if i is None:
        raise ValueError(f"no word at or after offset {offset}")
    return _hash(words[i : i + ANCHOR_WORDS]), spans[i][0]


def _hash(words: list[str]) -> str:
    return hashlib.sha1(" ".join(words).encode(), usedforsecurity=False).hexdigest()[:12]


def resolve(text: str, anchor: str, near: int | None) -> int | None:
    """The offset in ``text`` where the anchor's words start (the occurrence nearest ``near``)."""
    words, spans = norm_words(text)
    hits = [spans[k][0] for k in range(len(words)) if _hash(words[k : k + ANCHOR_WORDS]) == anchor]
    if not hits:
        return None
    return min(hits, key=lambda a: abs(a - (near or 0)))


def resolve_all(con: Any, queries: list[Query]) -> dict[tuple[str, str, int | None], int]:
    """(doc, anchor, at) -> offset for every judged passage; a clear error when one is not found."""
    out: dict[tuple[str, str, int | None], int] = {}
    texts: dict[str, str] = {}
    missing = []
    for q in queries:
        for alt in (a for it in q.relevant for a in it.alts):
            if not alt.anchor:
                continue
            if alt.doc not in texts:
                row = con.execute("SELECT text FROM documents WHERE doc_id = ?", [alt.doc]).fetchone()
                texts[alt.doc] = row[0] if row and row[0] else ""
            pos = resolve(texts[alt.doc], alt.anchor, alt.at)
            if pos is None:
                missing.append(f"{q.id}: anchor {alt.anchor} not found in {alt.doc}")
            else:
                out[(alt.doc, alt.anchor, alt.at)] = pos
    if missing:
        raise SystemExit("judgements that no longer point at their passage:\n  " + "\n  ".join(missing))
    return out


# --------------------------------------------------------------------------- scoring


def _matches(item: Item, hit: dict[str, Any], offsets: dict[tuple[str, str, int | None], int], passage_level: bool) -> bool:
    for alt in item.alts:
        if hit["doc_id"] != alt.doc:
            if alt.doc in hit.get("copies", ()) and (not alt.anchor or not passage_level):
                return True  # shown as a copy of this result
            continue
        if not alt.anchor or not passage_level:
            return True
        pos = offsets[(alt.doc, alt.anchor, alt.at)]
        if any(a <= pos < b for a, b in hit.get("spans") or []):
            return True
    return False


def score_query(q: Query, hits: list[dict[str, Any]], offsets: dict[tuple[str, str, int | None], int], passage_level: bool) -> dict[str, Any]:
    found3 = {i for i, it in enumerate(q.relevant) if any(_matches(it, h, offsets, passage_level) for h in hits[:3])}
    rank = next((r for r, h in enumerate(hits[:10], 1) if any(_matches(it, h, offsets, passage_level) for it in q.relevant)), None)
    return {
        "recall3": len(found3) / min(3, len(q.relevant)),
        "rr10": 1.0 / rank if rank else 0.0,
        "first_relevant_rank": rank,
    }


def _median_ms(fn: Any, repeats: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts), out


SYNTHETIC = "inbox/synthetic/"  # where rel-x100 keeps the generated corpus (its documents are unjudged)
CONDENSED_DEPTH = 1000  # results read for a condensed list (unjudged documents removed): the synthetic
# corpus holds hundreds of planted copies of some queries' phrases


def evaluate(db: Path, queries: list[Query], repeats: int) -> dict[str, Any]:
    """Every query through both systems: latency of a 10-result query, and the metrics of its
    results; where the warehouse holds the synthetic corpus, also of its *condensed* lists (the
    synthetic, unjudged documents removed, read from a deeper list), since the generator plants the
    lexicon's phrases and terms in them, so they hold the very words of many queries."""
    from pipelines.core import db as coredb
    from pipelines.core import warehouse as wh
    from pipelines.core.search import search

    con = wh.connect(db, read_only=True)
    try:
        offsets = resolve_all(con, queries)
        n_docs, n_words = con.execute("SELECT count(*), coalesce(sum(word_count), 0) FROM documents").fetchone()  # type: ignore[misc]
        n_passages = coredb.scalar(con, "SELECT count(*) FROM _search_passages")
        unjudged = {r[0] for r in con.execute(
            "SELECT d.doc_id FROM documents d JOIN snapshots s USING (snapshot_id) WHERE starts_with(s.path, ?)", [SYNTHETIC]
        ).fetchall()}

        def ours(text: str, limit: int = 10) -> list[dict[str, Any]]:
            return [
                {"doc_id": h.doc_id, "spans": [(p.start_char, p.end_char) for p in h.passages], "score": h.score,
                 "copies": [d for d, _ in h.copies]}
                for h in search(con, text, limit=limit)
            ]

        def baseline(text: str, limit: int = 10) -> list[dict[str, Any]]:
            rows = con.execute(
                """
                SELECT doc_id, score FROM (
                    SELECT doc_id, fts_main_documents.match_bm25(doc_id, ?) AS score FROM documents) s
                WHERE score IS NOT NULL ORDER BY score DESC, doc_id LIMIT ?
                """,
                [text, limit],
            ).fetchall()
            return [{"doc_id": d, "spans": [], "score": s} for d, s in rows]

        def condensed(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [h for h in hits if h["doc_id"] not in unjudged]

        per_query = []
        for q in queries:
            ms_ours, hits = _median_ms(lambda q=q: ours(q.query), repeats)
            ms_base, base = _median_ms(lambda q=q: baseline(q.query), repeats)
            row = {
                "id": q.id,
                "category": q.category,
                "query": q.query,
                "relevant": len(q.relevant),
                "passage": score_query(q, hits, offsets, True) | {"ms": round(ms_ours, 2)},
                "doc": score_query(q, hits, offsets, False),
                "baseline": score_query(q, base, offsets, False) | {"ms": round(ms_base, 2)},
                "top3": [h["doc_id"] for h in hits[:3]],
                "baseline_top3": [h["doc_id"] for h in base[:3]],
            }
            if unjudged:
                deep_ours, deep_base = ours(q.query, CONDENSED_DEPTH), baseline(q.query, CONDENSED_DEPTH)
                row["passage_condensed"] = score_query(q, condensed(deep_ours), offsets, True)
                row["baseline_condensed"] = score_query(q, condensed(deep_base), offsets, False)
                row["synthetic_in_top3"] = sum(h["doc_id"] in unjudged for h in hits[:3])
            per_query.append(row)
    finally:
        con.close()
    return {"documents": int(n_docs), "words": int(n_words), "passages": int(n_passages), "unjudged_documents": len(unjudged),
            "queries": per_query, "summary": summarise(per_query)}


def summarise(per_query: list[dict[str, Any]]) -> dict[str, Any]:
    def agg(rows: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(rows)}
        for system in ("passage", "doc", "baseline", "passage_condensed", "baseline_condensed"):
            if system not in rows[0]:
                continue
            out[system] = {
                "recall3": round(statistics.fmean(r[system]["recall3"] for r in rows), 3),
                "mrr10": round(statistics.fmean(r[system]["rr10"] for r in rows), 3),
            }
        for system in ("passage", "baseline"):
            ms = [r[system]["ms"] for r in rows]
            out[system] |= {"median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1)}
        return out

    out = {"all": agg(per_query)}
    for c in CATEGORIES:
        rows = [r for r in per_query if r["category"] == c]
        if rows:
            out[c] = agg(rows)
    return out


# --------------------------------------------------------------------------- projects


def corpus_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("CORPUS_REAL_DIR")
    if not d or not Path(d).is_dir():
        raise SystemExit("the real corpus is needed: set CORPUS_REAL_DIR or pass --corpus DIR")
    return Path(d).resolve()


def prepare(scale: int, corpus: Path, out: Path) -> Path:
    """The project folder for a scale: analysis/, dagster.yaml, the real corpus (and the synthetic one)."""
    project = out / f"rel-x{scale}"
    inbox = project / "raw" / "inbox"
    (project / "analysis").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "analysis", project / "analysis", dirs_exist_ok=True)
    if scale > 1:  # search does not read the claims; verifying the profile's 201 claims over 100x the
        # text would take most of an hour and ~15 GB, which is not what this benchmark measures
        for name in ("claims.yaml", "audit.yaml"):
            (project / "analysis" / name).unlink(missing_ok=True)
    shutil.copy(REPO / "dagster.yaml", project / "dagster.yaml")
    real = inbox / "real"
    if not real.exists():
        shutil.copytree(corpus, real)
    if scale > 1:
        from generate import generate  # bench/generate.py

        synth = out / f"x{scale}"
        generate(synth, float(scale))
        target = inbox / "synthetic"
        if not target.exists():
            shutil.copytree(synth / "raw" / "inbox", target, copy_function=os.link)
    return project


def build(project: Path, log: Path) -> float:
    t = time.time()
    with log.open("wb") as f:
        rc = subprocess.call(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "pipelines.cli", "--project", str(project), "run", "--offline"],
            cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
        )
    if rc != 0:
        raise SystemExit(f"corpus run failed for {project} (exit {rc}); see {log}")
    return time.time() - t


def machine() -> dict[str, Any]:
    """bench/run.py's description of the machine, and how loaded it was when this run started."""
    from run import machine as run_machine  # bench/run.py

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return run_machine() | {"load_average_1m_at_start": round(load, 2)}


# --------------------------------------------------------------------------- report


def render(res: dict[str, Any]) -> str:
    L = [BEGIN, "", f"Generated by `bench/relevance.py` on {res['generated_at']}.", ""]
    m = res["machine"]
    L.append(
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}; Python {m['python']}, "
        f"duckdb {m['versions']['duckdb']}. Load average when the run started: {m['load_average_1m_at_start']} "
        "(the machine is shared: latencies are medians)."
    )
    L.append("")
    L.append(f"{res['n_queries']} judged queries ({', '.join(f'{c} {n}' for c, n in res['per_category'].items())}), "
             f"{res['n_items']} relevant items ({res['n_passages']} of them passages).")
    L.append("")
    L.append("| scale | documents | words | passages | system | recall@3 | MRR@10 | median ms | max ms |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for scale, r in res["scales"].items():
        s = r["summary"]["all"]
        first = f"| {scale} | {r['documents']:,} | {r['words']:,} | {r['passages']:,} "
        L.append(first + f"| passage search (a judged passage must be one shown) | {s['passage']['recall3']:.3f} | {s['passage']['mrr10']:.3f} "
                 f"| {s['passage']['median_ms']:.1f} | {s['passage']['max_ms']:.1f} |")
        L.append(f"| | | | | passage search (documents) | {s['doc']['recall3']:.3f} | {s['doc']['mrr10']:.3f} | | |")
        L.append(f"| | | | | baseline: `match_bm25` over documents | {s['baseline']['recall3']:.3f} | {s['baseline']['mrr10']:.3f} "
                 f"| {s['baseline']['median_ms']:.1f} | {s['baseline']['max_ms']:.1f} |")
        if "passage_condensed" in s:
            L.append(f"| | | | | passage search, condensed: the {r['unjudged_documents']:,} synthetic (unjudged) documents removed "
                     f"| {s['passage_condensed']['recall3']:.3f} | {s['passage_condensed']['mrr10']:.3f} | | |")
            L.append(f"| | | | | baseline, condensed | {s['baseline_condensed']['recall3']:.3f} | {s['baseline_condensed']['mrr10']:.3f} | | |")
    L.append("")
    L.append("Measured: " + "; ".join(f"{k} at {v.get('measured_at', res['generated_at'])}" for k, v in res["scales"].items())
             + ". Each query ran once to warm up, then " + str(res.get("repeats", "?")) + " times; per query the median, then the "
             "median and the maximum over the queries. Both systems in the same process, on the same warehouse, one after the other.")
    L.append("")
    L.append("Per kind of query (recall@3 / MRR@10; passage search with passages matched, then the baseline):")
    L.append("")
    scales = list(res["scales"])
    L.append("| kind | queries | " + " | ".join(f"{s}: passage search | {s}: baseline" for s in scales) + " |")
    L.append("|---|---|" + "---|---|" * len(scales))
    for c in CATEGORIES:
        cells = []
        n = 0
        for s in scales:
            a = res["scales"][s]["summary"].get(c)
            if not a:
                cells += ["–", "–"]
                continue
            n = a["n"]
            cells += [f"{a['passage']['recall3']:.2f} / {a['passage']['mrr10']:.2f}", f"{a['baseline']['recall3']:.2f} / {a['baseline']['mrr10']:.2f}"]
        L.append(f"| {c} | {n} | " + " | ".join(cells) + " |")
    L.append("")
    for scale, r in res["scales"].items():
        misses = [q for q in r["queries"] if q["passage"]["recall3"] < 1 or q["passage"]["rr10"] < 1]
        L.append(f"Queries not perfect at {scale} (passage search): " + (
            "; ".join(f"`{q['id']}` recall@3 {q['passage']['recall3']:.2f}, first relevant at "
                      f"{q['passage']['first_relevant_rank'] or '>10'}" for q in misses) if misses else "none") + ".")
        L.append("")
    L.append(END)
    return "\n".join(L)


def write_md(res: dict[str, Any]) -> None:
    block = render(res)
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Search relevance (issue 13)\n\n" + block + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    an = sub.add_parser("anchor", help="the anchor of the passage at DOC OFFSET (in the 1x warehouse)")
    an.add_argument("doc")
    an.add_argument("offset", type=int)
    ap.add_argument("--scales", default="1,100", help="comma-separated: 1 and/or 100 (default 1,100)")
    ap.add_argument("--corpus", help="the real corpus folder (default: CORPUS_REAL_DIR)")
    ap.add_argument("--out", type=Path, default=BENCH / "out", help="where projects go (git-ignored)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-build", action="store_true", help="use the projects' warehouses as they are")
    ap.add_argument("--show", action="store_true", help="print every judged passage's context (1x) and exit")
    args = ap.parse_args(argv)
    queries = load_judgments()
    sys.path.insert(0, str(BENCH))
    if args.cmd == "anchor" or args.show:
        from pipelines.core import db as coredb
        from pipelines.core import warehouse as wh

        db = args.out / "rel-x1" / "warehouse" / "corpus.duckdb"
        con = wh.connect(db, read_only=True)
        try:
            if args.cmd == "anchor":
                row = con.execute("SELECT text FROM documents WHERE doc_id = ?", [args.doc]).fetchone()
                if not row:
                    raise SystemExit(f"no document {args.doc} in {db}")
                anchor, at = anchor_at(row[0], args.offset)
                print(f"{{doc: {args.doc}, anchor: {anchor}, at: {at}}}")
                return 0
            offsets = resolve_all(con, queries)
            for q in queries:
                print(f"== {q.id} [{q.category}] {q.query!r}")
                for it in q.relevant:
                    for alt in it.alts:
                        if alt.anchor:
                            pos = offsets[(alt.doc, alt.anchor, alt.at)]
                            text = coredb.scalar(con, "SELECT text FROM documents WHERE doc_id = ?", [alt.doc])
                            print(f"   {alt.doc} @{pos}: {' '.join(text[pos : pos + 160].split())}")
                        else:
                            print(f"   {alt.doc}")
                    print("   --")
        finally:
            con.close()
        return 0
    corpus = corpus_dir(args.corpus)
    res: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "n_queries": len(queries),
        "per_category": {c: sum(1 for q in queries if q.category == c) for c in CATEGORIES},
        "n_items": sum(len(q.relevant) for q in queries),
        "n_passages": sum(1 for q in queries for it in q.relevant if any(a.anchor for a in it.alts)),
        "repeats": args.repeats,
        "scales": {},
    }
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for scale in [int(s) for s in args.scales.split(",") if s.strip()]:
        project = prepare(scale, corpus, args.out)
        built = None if args.no_build else build(project, logs / f"rel-x{scale}.log")
        print(f"x{scale}: project {project}" + (f" brought up to date in {built:.0f} s" if built else ""), file=sys.stderr)
        r = evaluate(project / "warehouse" / "corpus.duckdb", queries, args.repeats)
        r["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        r["load_average_1m_after"] = round(os.getloadavg()[0], 2)
        res["scales"][f"x{scale}"] = r
        s = r["summary"]["all"]
        print(
            f"x{scale}: passage search recall@3 {s['passage']['recall3']:.3f} MRR@10 {s['passage']['mrr10']:.3f} "
            f"median {s['passage']['median_ms']:.1f} ms; baseline recall@3 {s['baseline']['recall3']:.3f} "
            f"MRR@10 {s['baseline']['mrr10']:.3f} median {s['baseline']['median_ms']:.1f} ms",
            file=sys.stderr,
        )
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    if previous.get("scales") and set(previous["scales"]) - set(res["scales"]):
        for k, v in previous["scales"].items():  # keep the scales not run this time
            res["scales"].setdefault(k, v)
        res["scales"] = dict(sorted(res["scales"].items(), key=lambda kv: int(kv[0][1:])))
    RESULTS_JSON.write_text(json.dumps(res, indent=1))
    write_md(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
