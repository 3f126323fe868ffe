"""`corpus`: the command line. `corpus run` materializes every asset headless and prints a summary.

Exit status: 0 when the run completed (even with sources not collected or files rejected: the
summary says so); 1 when the run itself failed (an asset raised); 2 for invalid configuration
or usage; 3 when another run holds the warehouse.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from pipelines.core.config import ConfigError, load_catalog
from pipelines.project import Project


def _err(msg: str) -> None:
    print(f"corpus: {msg}", file=sys.stderr)


def _instance(project: Project):
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    project.dagster_home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(project.dagster_home), config_dir=str(project.root)))


def materialize_all(project: Project, *, quiet: bool = False, refresh: bool = False, offline: bool = False) -> bool:
    """Materialize every asset (and run every check) in-process. Returns success."""
    import warnings

    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    from pipelines.definitions import build_defs

    defs = build_defs(str(project.root))
    job = defs.resolve_job_def("corpus_everything")
    from pipelines.defs.progress import progress_logger

    run_config: dict = {"ops": {"fetched_sources": {"config": {"refresh": refresh, "offline": offline}}}}
    if quiet:
        run_config["loggers"] = {"progress": {"config": {"log_level": "INFO"}}}
    if quiet:
        logging.getLogger("dagster").setLevel(logging.WARNING)
        job = job.with_logger_defs({"progress": progress_logger})
    with _instance(project) as instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, tags={"corpus/trigger": "cli"}
        )
    for event in result.all_events:
        if event.is_step_failure:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
                error = error.cause
            _err(f"step {event.step_key} failed: {error.message.strip() if error else 'unknown error'}")
    return result.success


def cmd_run(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core import warehouse as wh
    from pipelines.core.summary import run_summary
    from pipelines.core.validate import validate_project

    problems = validate_project(project.analysis, project.catalog_path)
    if problems:
        _err("invalid configuration:\n" + "\n".join(problems))
        return 2
    t0 = time.monotonic()
    print(f"corpus run: project {project.root}", file=sys.stderr)
    try:
        with wh.writer_lock(project.warehouse_dir):
            ok = materialize_all(project, quiet=not args.verbose, refresh=args.refresh, offline=args.offline)
    except wh.WarehouseBusy as e:
        _err(str(e))
        return 3
    took = time.monotonic() - t0
    if project.published_db.exists():
        con = wh.connect(project.published_db, read_only=True)
        try:
            print(run_summary(con))
        finally:
            con.close()
    print(f"{'run completed' if ok else 'run FAILED'} in {took:.1f}s; warehouse: {project.published_db}")
    return 0 if ok else 1


def cmd_import(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.rawstore import RawStore

    store = RawStore(project.raw)
    try:
        events = store.import_paths([Path(p) for p in args.paths])
    except FileNotFoundError as e:
        _err(str(e))
        return 2
    for ev in events:
        print(f"imported {ev.origin} -> raw/{ev.path} ({ev.bytes:,} bytes)")
    print(f"{len(events)} file(s) in raw/; run `corpus run` to load them into the warehouse")
    return 0


def cmd_status(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core import warehouse as wh
    from pipelines.core.summary import run_summary

    if not project.published_db.exists():
        _err(f"no warehouse yet at {project.published_db}: run `corpus run` first")
        return 2
    con = wh.connect(project.published_db, read_only=True)
    try:
        print(run_summary(con, max_rejected=1000))
    finally:
        con.close()
    return 0


def _published(project: Project):
    from pipelines.core import warehouse as wh

    if not project.published_db.exists():
        _err(f"no warehouse yet at {project.published_db}: run `corpus run` first")
        return None
    return wh.connect(project.published_db, read_only=True)


def _highlight(snippet: str) -> str:
    bold = sys.stdout.isatty()
    return snippet.replace("[[", "\033[1;33m" if bold else "«").replace("]]", "\033[0m" if bold else "»")


def cmd_search(args: argparse.Namespace, project: Project) -> int:
    import json

    from pipelines.core.search import SearchIndexMissing, search

    con = _published(project)
    if con is None:
        return 2
    try:
        hits = search(con, args.query, kind=args.kind, limit=args.limit, exact=args.exact, own_only=args.own,
                      since=args.since, until=args.until, per_doc=args.passages)
    except (SearchIndexMissing, ValueError) as e:
        _err(str(e))
        return 2
    finally:
        con.close()
    if args.json:
        for h in hits:
            print(json.dumps(h.as_json(), ensure_ascii=False))
        return 0
    for i, h in enumerate(hits, 1):
        date = h.published_at.date().isoformat() if h.published_at else "undated"
        print(f"{i:>3}. [{h.score:5.2f}] {date} {h.kind:<9} {h.title or h.doc_id}")
        for j, p in enumerate(h.passages):
            if j == 0 or p.link != h.passages[j - 1].link:  # another second of the video: its own link
                print(f"     {'' if j == 0 else '+ '}{p.link or h.doc_id}")
            print(f"     {'' if j == 0 else '  '}{_highlight(p.snippet)}")
        for doc_id, link in h.copies:
            print(f"     (also in {doc_id}{': ' + link if link else ''})")
    if not hits:
        print("no passage holds the exact phrase" if args.exact else "no passages match")
    return 0


def cmd_kwic(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.kwic import kwic

    con = _published(project)
    if con is None:
        return 2
    try:
        lines = kwic(con, args.query, width=args.width, kind=args.kind, limit=args.limit, own_only=not args.all, since=args.since, lemma=args.lemma)
    except ValueError as e:
        _err(str(e))
        return 2
    finally:
        con.close()
    for ln in lines:
        when = ln["published_at"].date().isoformat() if ln.get("published_at") else "undated   "
        left = ln["left"].replace("\n", " ")[-args.width:]
        right = ln["right"].replace("\n", " ")[: args.width]
        print(f"{when} {ln['kind']:<9} {left:>{args.width}} {_highlight('[[' + ln['match'] + ']]')} {right}")
        print(f"{'':>21}{ln.get('link') or ln.get('url') or ln['doc_id']}")
    print(f"{len(lines)} line(s)" + (" (limit reached)" if len(lines) == args.limit else ""), file=sys.stderr)
    return 0


def _audit_report(con, project: Project) -> int:
    """Every audited claim whose verdict, value, class or evidence differs from analysis/audit.yaml."""
    from pipelines.core.claims.audit import differences, load_audit

    try:
        audit = load_audit(project.analysis / "audit.yaml")
    except ConfigError as e:
        _err(f"invalid configuration:\n{e}")
        return 2
    if audit is None:
        _err(f"no audit: {project.analysis / 'audit.yaml'} does not exist")
        return 2
    cur = con.execute("SELECT * FROM claims")
    cols = [d[0] for d in cur.description]
    rows = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    evidence: dict[str, list[str]] = {}
    for cid, doc in con.execute("SELECT claim_id, doc_id FROM claim_evidence ORDER BY claim_id, rank").fetchall():
        evidence.setdefault(cid, []).append(doc)
    differ = 0
    for entry in audit.claims:
        row = rows.get(entry.id)
        diffs = ["not in the claims table"] if row is None else differences(entry, row, evidence.get(entry.id, []))
        if diffs:
            differ += 1
            print(f"{entry.id}: " + "; ".join(diffs))
            print(f"{'':>4}audit: {entry.why}")
            if row is not None:
                print(f"{'':>4}pipeline: {row['explanation']}")
    unaudited = sorted(set(rows) - {e.id for e in audit.claims})
    print(
        f"audit of {audit.audited_on}: {len(audit.claims)} claims audited, {len(audit.claims) - differ} agree, "
        f"{differ} differ; {len(unaudited)} claims not audited",
        file=sys.stderr,
    )
    return 1 if differ else 0


def cmd_claims(args: argparse.Namespace, project: Project) -> int:
    con = _published(project)
    if con is None:
        return 2
    if args.audit:
        try:
            return _audit_report(con, project)
        finally:
            con.close()
    try:
        where, params = [], []
        if args.status:
            where.append("verdict = ?")
            params.append(args.status)
        if args.id:
            where.append("claim_id ILIKE ?")
            params.append(args.id.replace("*", "%"))
        sql = "SELECT claim_id, verdict, measured, expected, explanation, evidence_count FROM claims"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = con.execute(sql + " ORDER BY claim_id", params).fetchall()
        for claim_id, verdict, measured, expected, explanation, n_ev in rows:
            print(f"{verdict:<14} {claim_id}  measured {measured or '-'} / expected {expected or '-'}")
            print(f"{'':>15}{explanation}")
            if args.evidence and n_ev:
                for rank, kind, link, snip in con.execute(
                    "SELECT rank, kind, coalesce(link, url, doc_id), snippet FROM claim_evidence WHERE claim_id = ? ORDER BY rank",
                    [claim_id],
                ).fetchall():
                    print(f"{'':>15}{rank:>2}. {kind} {link}")
                    print(f"{'':>19}{' '.join((snip or '').split())[:200]}")
        counts = con.execute("SELECT verdict, count(*) FROM claims GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        con.close()
    print(f"{len(rows)} claim(s) shown; all claims: " + ", ".join(f"{v} {n}" for v, n in counts), file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace, project: Project) -> int:

    from pipelines.core.report import write_report
    from pipelines.core.warehouse import published_info

    con = _published(project)
    if con is None:
        return 2
    published_at = (published_info(project.published_db) or {}).get("published_at")
    try:
        thinker = load_catalog(project.catalog_path).thinker.name
    except ConfigError:
        thinker = None
    try:
        out = write_report(con, project.reports, published_at=published_at, thinker=thinker)
    finally:
        con.close()
    print(f"wrote {out['html']} and {out['markdown']} ({out['claims']} claims: {out['verdicts']})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="corpus", description=__doc__.splitlines()[0])
    ap.add_argument("--project", help="project folder (default: CORPUS_PROJECT_DIR or this checkout)")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="fetch what is new, parse raw/, rebuild and publish the warehouse")
    run.add_argument("--refresh", action="store_true", help="re-fetch sources that already have a good snapshot")
    run.add_argument("--offline", action="store_true", help="do not fetch; build from what raw/ holds (also CORPUS_OFFLINE=1)")
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    run.set_defaults(func=cmd_run)
    imp = sub.add_parser("import", help="copy files or folders into raw/ (content-addressed; originals untouched)")
    imp.add_argument("paths", nargs="+")
    imp.set_defaults(func=cmd_import)
    st = sub.add_parser("status", help="summary of the published warehouse")
    st.set_defaults(func=cmd_status)
    se = sub.add_parser("search", help="ranked passages (caption windows, paragraphs, tweets), grouped by document")
    se.add_argument("query")
    se.add_argument("--kind", choices=["video", "podcast", "blog_post", "tweet", "paper", "repo", "other"])
    se.add_argument("--since", help="only documents published on or after YYYY, YYYY-MM or YYYY-MM-DD")
    se.add_argument("--until", help="only documents published on or before YYYY, YYYY-MM or YYYY-MM-DD")
    se.add_argument("--limit", type=int, default=20, help="documents to show")
    se.add_argument("--passages", type=int, default=3, help="passages to show per document (default 3)")
    se.add_argument("--exact", action="store_true",
                    help="only passages holding the exact phrase (case, quotes, dashes and spacing do not matter)")
    se.add_argument("--own", action="store_true", help="only the thinker's own words (no retweets)")
    se.add_argument("--json", action="store_true", help="one JSON object per result (JSON Lines)")
    se.set_defaults(func=cmd_search)
    kw = sub.add_parser("kwic", help="keyword in context: concordance lines with date, kind and link")
    kw.add_argument("query", help="a tracked phrase id (analysis/lexicon.yaml, all its forms) or words to find")
    kw.add_argument("--kind", choices=["video", "podcast", "blog_post", "tweet", "paper", "repo", "other"])
    kw.add_argument("--since", help="only documents published on or after YYYY-MM or YYYY-MM-DD")
    kw.add_argument("--limit", type=int, default=50)
    kw.add_argument("--width", type=int, default=50, help="characters of context each side")
    kw.add_argument("--all", action="store_true", help="include others' words (retweets)")
    kw.add_argument("--lemma", action="store_true", help="match every form of each word ('build model' finds 'built models')")
    kw.set_defaults(func=cmd_kwic)
    cl = sub.add_parser("claims", help="the profile's claims with their verdicts")
    cl.add_argument("--status", choices=["supported", "contradicted", "lower_bound", "inconsistent", "not_checkable"])
    cl.add_argument("--id", help="claim id, '*' as wildcard (e.g. 'from-scratch*')")
    cl.add_argument("--evidence", action="store_true", help="show the passages behind each verdict")
    cl.add_argument("--audit", action="store_true",
                    help="compare every verdict with the hand-made audit (analysis/audit.yaml); exit 1 when any differs")
    cl.set_defaults(func=cmd_claims)
    rp = sub.add_parser("report", help="regenerate reports/index.html and reports/claims.md")
    rp.set_defaults(func=cmd_report)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    project = Project(Path(args.project).resolve()) if args.project else Project.default()
    os.chdir(project.root)  # dagster.yaml's relative storage paths are relative to the project
    return int(args.func(args, project))


if __name__ == "__main__":
    sys.exit(main())
