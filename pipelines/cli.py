"""`corpus`: the command line. `corpus run` materializes every asset headless and prints a summary.

Exit status (every command): 0 done (a run that completed, even with sources not collected or
files rejected: the summary says so); 1 a run step failed (its error is printed), or `claims
--audit` found differences; 2 invalid configuration (each problem names the file, the entry and
the field); 3 another run holds the warehouse; 4 nothing to read yet (no published warehouse);
64 a usage error (an unknown option, a missing argument, a path that does not exist).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import duckdb

from pipelines.core import db
from pipelines.core.config import ConfigError, load_catalog
from pipelines.project import Project

OK, FAILED, INVALID_CONFIG, BUSY, NO_WAREHOUSE, USAGE = 0, 1, 2, 3, 4, 64


def _err(msg: str) -> None:
    print(f"corpus: {msg}", file=sys.stderr)


def _instance(project: Project):
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    from pipelines.defs.event_log import pooled_storage_ref

    project.dagster_home.mkdir(parents=True, exist_ok=True)
    ref = InstanceRef.from_dir(str(project.dagster_home), config_dir=str(project.root))
    return DagsterInstance.from_ref(pooled_storage_ref(ref))  # one SQLite connection per shard, not per event


CLI_TAG = ("corpus/trigger", "cli")


def release_dead_cli_runs(instance) -> list[str]:
    """Free the Dagster pool slots of `corpus run` runs whose process died (kill -9, OOM, power cut).

    Every `corpus run` holds the writer lock for as long as its Dagster run lives, so once the lock is
    ours, a CLI-triggered run still marked as started is dead. Dagster keeps its "warehouse" pool slot
    claimed forever, and every later run would wait for that slot without end. Such runs are marked
    failed and their slots freed. Runs launched from the UI or by sensors are left alone. Returns the
    run ids released. Called with the writer lock held, on the instance the run then uses (opening
    the instance costs ~0.4 s)."""
    from dagster import DagsterRunStatus, RunsFilter

    live = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.CANCELING]
    released = []
    for run in instance.get_runs(RunsFilter(statuses=live, tags=dict([CLI_TAG]))):
        instance.report_run_failed(run, "the `corpus run` process running this died (killed?); the next run freed its pool slots")
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def materialize_all(project: Project, *, quiet: bool = False, refresh: bool = False, offline: bool = False) -> bool:
    """Materialize every asset (and run every check) in-process. Returns success. Call it with the
    warehouse's writer lock held (it frees the pool slots of dead CLI runs first)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    from pipelines.defs.location import build_defs

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
        for run_id in release_dead_cli_runs(instance):
            _err(f"freed the pool slots of run {run_id}, whose `corpus run` process had died")
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, tags=dict([CLI_TAG])
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
        return INVALID_CONFIG
    t0 = time.monotonic()
    print(f"corpus run: project {project.root}", file=sys.stderr)
    try:
        with wh.writer_lock(project.warehouse_dir):
            from pipelines.core.isolation import start_forkserver_early

            start_forkserver_early()  # its parser imports overlap Dagster's start-up
            ok = materialize_all(project, quiet=not args.verbose, refresh=args.refresh, offline=args.offline)
    except wh.WarehouseBusy as e:
        _err(str(e))
        return BUSY
    took = time.monotonic() - t0
    if project.published_db.exists():
        con = wh.connect(project.published_db, read_only=True)
        try:
            print(run_summary(con))
        finally:
            con.close()
    print(f"{'run completed' if ok else 'run FAILED'} in {took:.1f}s; warehouse: {project.published_db}")
    return OK if ok else FAILED


def cmd_validate(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.validate import project_notes, project_summary, validate_project

    problems = validate_project(project.analysis, project.catalog_path)
    for note in project_notes(project.analysis):
        print(f"note: {note}", file=sys.stderr)
    if problems:
        _err(f"invalid configuration ({len(problems)} problem(s)):\n" + "\n".join(problems))
        return INVALID_CONFIG
    print(f"configuration of {project.root} is valid: {project_summary(project.analysis)}")
    return OK


def cmd_init(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.scaffold import NewThinker, ScaffoldError, write_project

    root = Path(args.dir).expanduser().resolve()
    t = NewThinker(args.thinker, args.twitter, args.github, args.youtube_channel, list(args.feed or []))
    try:
        written = write_project(root, t)
    except ScaffoldError as e:
        _err(str(e))
        return USAGE
    for path in written:
        print(f"wrote {path}")
    print(
        f"project for {t.name} in {root}. Next: drop files into {root / 'raw' / 'inbox'} and run\n"
        f"  corpus run --project {root}{' --offline' if not (t.feeds or t.twitter or t.github) else ''}\n"
        "then edit analysis/*.yaml (docs/new-thinker.md) and check them with `corpus validate`."
    )
    return OK


def cmd_import(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.rawstore import RawStore

    store = RawStore(project.raw)
    try:
        events = store.import_paths([Path(p) for p in args.paths])
    except FileNotFoundError as e:
        _err(str(e))
        return USAGE
    for ev in events:
        print(f"imported {ev.origin} -> raw/{ev.path} ({ev.bytes:,} bytes)")
    print(f"{len(events)} file(s) in raw/; run `corpus run` to load them into the warehouse")
    return OK


def cmd_status(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core import warehouse as wh
    from pipelines.core.summary import missing_sources, run_summary, status_data

    if not project.published_db.exists():
        _err(f"no warehouse yet at {project.published_db}: run `corpus run --project {project.root}` first")
        try:
            catalog = load_catalog(project.catalog_path)
        except ConfigError:
            return NO_WAREHOUSE
        todo = [s for s in catalog.sources if not s.known_gap]
        if todo:
            print(f"the catalog names {len(todo)} source(s), none collected yet:")
            for s in todo:
                print(f"  {s.id} ({s.kind}): {s.title}")
        return NO_WAREHOUSE
    con = wh.connect(project.published_db, read_only=True)
    try:
        if args.json:
            import json

            print(json.dumps(status_data(con), ensure_ascii=False, indent=1))
            return OK
        print(run_summary(con, max_rejected=1000))
        missing = missing_sources(con)
    finally:
        con.close()
    if missing:
        print(f"catalog sources not collected ({len(missing)}):")
        for line in missing:
            print(f"  {line}")
    return OK


def _published(project: Project):
    from pipelines.core import warehouse as wh

    if not project.published_db.exists():
        _err(f"no warehouse yet at {project.published_db}: run `corpus run --project {project.root}` first")
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
        return NO_WAREHOUSE
    try:
        hits = search(con, args.query, kind=args.kind, limit=args.limit, exact=args.exact, own_only=args.own,
                      since=args.since, until=args.until, per_doc=args.passages)
    except SearchIndexMissing as e:
        _err(str(e))
        return NO_WAREHOUSE
    except ValueError as e:  # a bad --since/--until
        _err(str(e))
        return USAGE
    finally:
        con.close()
    if args.json:
        for h in hits:
            print(json.dumps(h.as_json(), ensure_ascii=False))
        return OK
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
    return OK


def cmd_kwic(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.kwic import kwic

    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
    try:
        lines = kwic(con, args.query, width=args.width, kind=args.kind, limit=args.limit, own_only=not args.all, since=args.since, lemma=args.lemma)
    except ValueError as e:
        _err(str(e))
        return USAGE
    finally:
        con.close()
    if args.json:
        import json

        for ln in lines:
            print(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in ln.items()},
                             ensure_ascii=False))
        return OK
    for ln in lines:
        when = ln["published_at"].date().isoformat() if ln.get("published_at") else "undated   "
        left = ln["left"].replace("\n", " ")[-args.width:]
        right = ln["right"].replace("\n", " ")[: args.width]
        print(f"{when} {ln['kind']:<9} {left:>{args.width}} {_highlight('[[' + ln['match'] + ']]')} {right}")
        print(f"{'':>21}{ln.get('link') or ln.get('url') or ln['doc_id']}")
    print(f"{len(lines)} line(s)" + (" (limit reached)" if len(lines) == args.limit else ""), file=sys.stderr)
    return OK


def _audit_report(con, project: Project) -> int:
    """Every audited claim whose verdict, value, class or evidence differs from analysis/audit.yaml."""
    from pipelines.core.claims.audit import differences, load_audit

    try:
        audit = load_audit(project.analysis / "audit.yaml")
    except ConfigError as e:
        _err(f"invalid configuration:\n{e}")
        return INVALID_CONFIG
    if audit is None:
        _err(f"no audit: {project.analysis / 'audit.yaml'} does not exist")
        return USAGE
    rows = {r["claim_id"]: r for r in db.rows(con, "SELECT * FROM claims")}
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
    return FAILED if differ else OK


from pipelines.core.claims.spec import VERDICTS  # noqa: E402 - plain data, cheap to import
from pipelines.core.records import DOC_KINDS  # noqa: E402 - plain data, cheap to import

VERDICT_STYLE = {"supported": "green", "contradicted": "bold red", "lower_bound": "yellow",
                 "not_checkable": "dim", "inconsistent": "magenta"}


def cmd_claims(args: argparse.Namespace, project: Project) -> int:
    import json

    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
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
        sql = "SELECT * FROM claims"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = db.rows(con, sql + " ORDER BY claim_id", params)
        evidence: dict[str, list[dict]] = {}
        if args.evidence or args.json:
            for e in db.rows(
                con,
                "SELECT claim_id, rank, doc_id, kind, link, url, published_at, snippet, match_class, difference "
                "FROM claim_evidence ORDER BY claim_id, rank",
            ):
                evidence.setdefault(e.pop("claim_id"), []).append(e)
        counts = con.execute("SELECT verdict, count(*) FROM claims GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        con.close()
    if args.json:
        keep = ("claim_id", "section", "type", "quote", "verdict", "measured", "expected", "explanation",
                "quote_class", "evidence_count", "audit_verdict", "audit_agrees")
        out = [{**{k: r.get(k) for k in keep}, **({"evidence": evidence.get(r["claim_id"], [])} if args.evidence else {})}
               for r in rows]
        json.dump(out, sys.stdout, default=str, ensure_ascii=False, indent=1)
        print()
    else:
        from rich.console import Console
        from rich.markup import escape

        console = Console(highlight=False, soft_wrap=True)
        for r in rows:
            v = r["verdict"]
            console.print(f"[{VERDICT_STYLE.get(v, '')}]{v:<14}[/] {escape(r['claim_id'])}  measured "
                          f"{escape(str(r['measured'] or '-'))} / expected {escape(str(r['expected'] or '-'))}")
            console.print(f"{'':>15}{escape(r['explanation'] or '')}")
            if args.evidence:
                for e in evidence.get(r["claim_id"], []):
                    how = f" ({e['match_class'].replace('_', '-')})" if e.get("match_class") else ""
                    console.print(f"{'':>15}{e['rank']:>2}. {e['kind']}{how} {escape(e['link'] or e['url'] or e['doc_id'] + ' (no link)')}")
                    console.print(f"{'':>19}{escape(' '.join((e['snippet'] or '').split())[:200])}")
    print(f"{len(rows)} claim(s) shown; all claims: " + ", ".join(f"{v} {n}" for v, n in counts), file=sys.stderr)
    return OK


def _print_table(columns: list[str], rows: list[tuple], fmt: str | None) -> None:
    """Rows as a table on a terminal (rich), plain tab-separated lines in a pipe, or CSV / JSON."""
    import csv
    import json

    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(columns)
        w.writerows(rows)
    elif fmt == "json":
        json.dump([dict(zip(columns, r, strict=True)) for r in rows], sys.stdout, default=str, ensure_ascii=False, indent=1)
        print()
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_lines=False)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        Console().print(table)
    else:
        print("\t".join(columns))
        for r in rows:
            print("\t".join("" if v is None else " ".join(str(v).split()) for v in r))


def cmd_sql(args: argparse.Namespace, project: Project) -> int:
    from pipelines.core.saved_queries import QueryError, find_query, parse_params, run_query, saved_queries

    folder = project.analysis / "queries"
    if args.list:
        for q in saved_queries(folder):
            print(f"{q.short:<28} {q.title}")
            for prm in q.params.values():
                print(f"{'':<30}--param {prm.name}=...  {prm.doc}" + (f" (default {prm.default})" if prm.default else ""))
        return 0
    try:
        query = find_query(folder, args.query) if args.query else None
        params = parse_params(args.param or [], query)
    except QueryError as e:
        _err(str(e))
        return USAGE
    sql = query.sql() if query else args.statement
    if not sql:
        _err("give a SQL statement, --query NAME or --list (see corpus sql --help)")
        return USAGE
    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
    try:
        columns, rows = run_query(con, sql, params)
    except (duckdb.Error, QueryError) as e:
        _err(f"SQL failed: {str(e).splitlines()[0]}")
        return 1
    finally:
        con.close()
    _print_table(columns, rows, "csv" if args.csv else "json" if args.json else None)
    print(f"{len(rows)} row(s)", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace, project: Project) -> int:

    from pipelines.core.report import profile_path, write_report
    from pipelines.core.warehouse import published_at as published_time

    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
    published_at = published_time(project.published_db)
    try:
        thinker = load_catalog(project.catalog_path).thinker.name
    except ConfigError:
        thinker = None
    try:
        out = write_report(con, project.reports, published_at=published_at, thinker=thinker,
                           profile=profile_path(project.root, project.analysis / "claims.yaml"))
    finally:
        con.close()
    page = f" and {out['profile_page']['path']}" if out.get("profile_page") else ""
    print(f"wrote {out['html']}, {out['markdown']}{page} ({out['claims']} claims: {out['verdicts']})")
    return OK


EXIT_CODES = """exit status (every command):
  0   done (a run that completed, even with files rejected or sources not collected: the summary says so)
  1   a step failed (its error is printed), an SQL statement failed, or claims --audit found differences
  2   invalid configuration (each problem names the file, the entry and the field)
  3   another run is writing the warehouse
  4   nothing to read yet (no published warehouse)
  64  a usage error (an unknown option, a missing argument, a path that does not exist)"""

EXAMPLES = {
    "init": ['corpus init ../ada --thinker "Ada Example" --twitter ada --feed https://ada.example/atom.xml'],
    "run": ["corpus run", "corpus run --offline", "corpus run --project ../ada --refresh"],
    "validate": ["corpus validate", "corpus validate --project ../ada"],
    "import": ["corpus import ~/Downloads/twitter-archive.zip", "corpus import ./transcripts/"],
    "status": ["corpus status", "corpus status --project ../ada", "corpus status --json | jq .verdicts"],
    "search": ["corpus search \"bicycle for the mind\"", "corpus search software 2.0 --kind blog_post --limit 5",
               "corpus search \"march of nines\" --since 2025 --own --json"],
    "kwic": ["corpus kwic from-scratch --kind tweet", "corpus kwic \"vibe coding\" --since 2025-01",
             "corpus kwic \"build model\" --lemma --json"],
    "claims": ["corpus claims --status contradicted --evidence", "corpus claims --id 'quote-*' --json", "corpus claims --audit"],
    "sql": ["corpus sql \"SELECT kind, count(*) FROM documents GROUP BY kind\"", "corpus sql --list",
            "corpus sql --query phrase_trend --param phrase=vibe-coding --csv > trend.csv",
            "corpus sql --query claim_evidence --param claim=from-scratch-tweets --json"],
    "report": ["corpus report"],
    "dev": ["corpus dev", "corpus dev --project ../ada -- --port 3001"],
}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Examples and exit codes kept as written; every option's default shown."""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with USAGE (64), so exit 2 always means an invalid configuration."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


PROJECT_HELP = "project folder (default: CORPUS_PROJECT_DIR or this checkout); before or after the command"
KINDS = list(DOC_KINDS)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thinker-corpus")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="corpus", description=__doc__.splitlines()[0], epilog=EXIT_CODES, formatter_class=_HelpFormatter)
    ap.add_argument("--version", action="version", version=f"corpus {_version()}")
    ap.add_argument("--project", help=PROJECT_HELP)
    # --project after the command too: SUPPRESS keeps the value given before it when absent here
    common = _Parser(add_help=False)
    common.add_argument("--project", default=argparse.SUPPRESS, help=PROJECT_HELP)
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_: str, func, *, project: bool = True) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        lines = EXAMPLES.get(name, [])
        p = sub.add_parser(
            name, help=help_, parents=[common] if project else [], formatter_class=_HelpFormatter,
            epilog="examples:\n" + "\n".join(f"  {x}" for x in lines) if lines else None,
        )
        p.set_defaults(func=func)
        return p

    init = command("init", "write a new project folder for another thinker (analysis/, raw/inbox/)", cmd_init, project=False)
    init.add_argument("dir", help="the new project's folder (created if missing; an existing project is refused)")
    init.add_argument("--thinker", required=True, help='the thinker\'s name, e.g. "Ada Example"')
    init.add_argument("--twitter", help="their X handle (adds a tweet_archive source)")
    init.add_argument("--github", help="their GitHub user")
    init.add_argument("--youtube-channel", help="their YouTube channel handle (@name) or URL")
    init.add_argument("--feed", action="append", help="the URL of a blog feed (RSS/Atom); repeat for several")
    run = command("run", "fetch what is new, parse raw/, rebuild and publish the warehouse", cmd_run)
    run.add_argument("--refresh", action="store_true", help="re-fetch sources that already have a good snapshot")
    run.add_argument("--offline", action="store_true", help="do not fetch; build from what raw/ holds (also CORPUS_OFFLINE=1)")
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    command("validate", "check every configuration file and cross-reference (exit 2 on any problem)", cmd_validate)
    imp = command("import", "copy files or folders into raw/ (content-addressed; originals untouched)", cmd_import)
    imp.add_argument("paths", nargs="+", help="files or folders to copy into raw/store/")
    st = command("status", "summary of the published warehouse and the sources not collected", cmd_status)
    st.add_argument("--json", action="store_true", help="the summary as one JSON object")
    se = command("search", "ranked passages (caption windows, paragraphs, tweets), grouped by document", cmd_search)
    se.add_argument("query", help="words to find (a phrase match ranks first; quotes, dashes and case do not matter)")
    se.add_argument("--kind", choices=KINDS, help="only documents of this kind")
    se.add_argument("--since", help="only documents published on or after YYYY, YYYY-MM or YYYY-MM-DD")
    se.add_argument("--until", help="only documents published on or before YYYY, YYYY-MM or YYYY-MM-DD")
    se.add_argument("--limit", type=int, default=20, help="documents to show")
    se.add_argument("--passages", type=int, default=3, help="passages to show per document")
    se.add_argument("--exact", action="store_true",
                    help="only passages holding the exact phrase (case, quotes, dashes and spacing do not matter)")
    se.add_argument("--own", action="store_true", help="only the thinker's own words (no retweets)")
    se.add_argument("--json", action="store_true", help="one JSON object per result (JSON Lines)")
    kw = command("kwic", "keyword in context: concordance lines with date, kind and link", cmd_kwic)
    kw.add_argument("query", help="a tracked phrase id (analysis/lexicon.yaml, all its forms) or words to find")
    kw.add_argument("--kind", choices=KINDS, help="only documents of this kind")
    kw.add_argument("--since", help="only documents published on or after YYYY-MM or YYYY-MM-DD")
    kw.add_argument("--limit", type=int, default=50, help="at most this many lines")
    kw.add_argument("--width", type=int, default=50, help="characters of context each side")
    kw.add_argument("--all", action="store_true", help="include others' words (retweets)")
    kw.add_argument("--lemma", action="store_true", help="match every form of each word ('build model' finds 'built models')")
    kw.add_argument("--json", action="store_true", help="one JSON object per line (JSON Lines)")
    cl = command("claims", "the profile's claims with their verdicts", cmd_claims)
    cl.add_argument("--status", choices=list(VERDICTS), help="only claims with this verdict")
    cl.add_argument("--id", help="claim id, '*' as wildcard (e.g. 'from-scratch*')")
    cl.add_argument("--evidence", action="store_true", help="show the passages behind each verdict")
    cl.add_argument("--audit", action="store_true",
                    help="compare every verdict with the hand-made audit (analysis/audit.yaml); exit 1 when any differs")
    cl.add_argument("--json", action="store_true", help="a JSON array, one object per claim (with --evidence: its passages)")
    sq = command("sql", "run SQL read-only on the published warehouse, or a saved query of analysis/queries/", cmd_sql)
    sq.add_argument("statement", nargs="?", help="the SQL to run (read-only: writes are refused)")
    sq.add_argument("--query", metavar="NAME", help="a saved query by name, e.g. phrase_trend (see --list)")
    sq.add_argument("--param", action="append", metavar="KEY=VALUE", help="a value the saved query reads (repeatable)")
    sq.add_argument("--list", action="store_true", help="list the saved queries and their parameters")
    out = sq.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV on stdout (default: a table on a terminal, tab-separated in a pipe)")
    out.add_argument("--json", action="store_true", help="a JSON array of objects on stdout")
    command("report", "regenerate reports/index.html, reports/claims.md and reports/profile.html", cmd_report)
    dev = command("dev", "the Dagster UI on this project (`dagster dev` in the project folder, its state in .dagster_home/)", cmd_dev)
    dev.add_argument("extra", nargs=argparse.REMAINDER, help="passed on to `dagster dev` (e.g. --port 3001)")
    return ap


def cmd_dev(args: argparse.Namespace, project: Project) -> int:
    """`dagster dev` on the code location, run in the project folder with CORPUS_PROJECT_DIR set to
    it: dagster.yaml is read from there and the runs, schedules and sensor cursors stay in its
    .dagster_home/, the same instance `corpus run` records its runs in."""
    import subprocess  # noqa: S404 - runs this environment's own dagster with fixed arguments

    from pipelines.core.validate import validate_project

    problems = validate_project(project.analysis, project.catalog_path)
    if problems:
        _err("invalid configuration:\n" + "\n".join(problems))
        return INVALID_CONFIG
    env = {**os.environ, "CORPUS_PROJECT_DIR": str(project.root)}
    env.pop("DAGSTER_HOME", None)  # the project folder's dagster.yaml decides where state lives
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions", *[a for a in args.extra if a != "--"]]
    return subprocess.call(cmd, cwd=project.root, env=env)  # noqa: S603 - fixed command, arguments from this CLI


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init":
        return int(args.func(args, Project.default()))
    project = Project(Path(args.project).expanduser().resolve()) if args.project else Project.default()
    if not project.root.is_dir():
        _err(f"--project {project.root}: no such folder (`corpus init {project.root} --thinker NAME` makes one)")
        return USAGE
    os.chdir(project.root)  # dagster.yaml's relative storage paths are relative to the project
    return int(args.func(args, project))


if __name__ == "__main__":
    sys.exit(main())
