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

from pipelines.core.config import ConfigError, load_catalog
from pipelines.project import Project

OK, FAILED, INVALID_CONFIG, BUSY, NO_WAREHOUSE, USAGE = 0, 1, 2, 3, 4, 64


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
        return INVALID_CONFIG
    t0 = time.monotonic()
    print(f"corpus run: project {project.root}", file=sys.stderr)
    try:
        with wh.writer_lock(project.warehouse_dir):
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
    from pipelines.core.summary import missing_sources, run_summary

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
    from pipelines.core.search import search

    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
    try:
        hits = search(con, args.query, kind=args.kind, limit=args.limit, exact=args.exact, own_only=args.own)
    finally:
        con.close()
    for i, h in enumerate(hits, 1):
        date = h.published_at.date().isoformat() if h.published_at else "undated"
        print(f"{i:>3}. [{h.score:5.2f}] {date} {h.kind:<9} {h.title or h.doc_id}")
        print(f"     {h.link or ''}")
        print(f"     {_highlight(h.snippet)}")
    if not hits:
        print("no documents match")
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
    return FAILED if differ else OK


def cmd_claims(args: argparse.Namespace, project: Project) -> int:
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
    return OK


def cmd_report(args: argparse.Namespace, project: Project) -> int:

    from pipelines.core.report import write_report
    from pipelines.core.warehouse import published_info

    con = _published(project)
    if con is None:
        return NO_WAREHOUSE
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
    return OK


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with USAGE (64), so exit 2 always means an invalid configuration."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


PROJECT_HELP = "project folder (default: CORPUS_PROJECT_DIR or this checkout); before or after the command"
KINDS = ["video", "podcast", "blog_post", "tweet", "paper", "repo", "other"]


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="corpus", description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help=PROJECT_HELP)
    # --project after the command too: SUPPRESS keeps the value given before it when absent here
    common = _Parser(add_help=False)
    common.add_argument("--project", default=argparse.SUPPRESS, help=PROJECT_HELP)
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, parents=[common])
        p.set_defaults(func=func)
        return p

    init = sub.add_parser("init", help="write a new project folder for another thinker (analysis/, raw/inbox/)")
    init.add_argument("dir", help="the new project's folder (created if missing; an existing project is refused)")
    init.add_argument("--thinker", required=True, help='the thinker\'s name, e.g. "Ada Example"')
    init.add_argument("--twitter", help="their X handle (adds a tweet_archive source)")
    init.add_argument("--github", help="their GitHub user")
    init.add_argument("--youtube-channel", help="their YouTube channel handle (@name) or URL")
    init.add_argument("--feed", action="append", help="the URL of a blog feed (RSS/Atom); repeat for several")
    init.set_defaults(func=cmd_init)
    run = command("run", "fetch what is new, parse raw/, rebuild and publish the warehouse", cmd_run)
    run.add_argument("--refresh", action="store_true", help="re-fetch sources that already have a good snapshot")
    run.add_argument("--offline", action="store_true", help="do not fetch; build from what raw/ holds (also CORPUS_OFFLINE=1)")
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    command("validate", "check every configuration file and cross-reference (exit 2 on any problem)", cmd_validate)
    imp = command("import", "copy files or folders into raw/ (content-addressed; originals untouched)", cmd_import)
    imp.add_argument("paths", nargs="+")
    command("status", "summary of the published warehouse and the sources not collected", cmd_status)
    se = command("search", "full-text search (BM25) over documents", cmd_search)
    se.add_argument("query")
    se.add_argument("--kind", choices=KINDS)
    se.add_argument("--limit", type=int, default=20)
    se.add_argument("--exact", action="store_true", help="only documents containing the exact phrase")
    se.add_argument("--own", action="store_true", help="only the thinker's own words (no retweets)")
    kw = command("kwic", "keyword in context: concordance lines with date, kind and link", cmd_kwic)
    kw.add_argument("query", help="a tracked phrase id (analysis/lexicon.yaml, all its forms) or words to find")
    kw.add_argument("--kind", choices=KINDS)
    kw.add_argument("--since", help="only documents published on or after YYYY-MM or YYYY-MM-DD")
    kw.add_argument("--limit", type=int, default=50)
    kw.add_argument("--width", type=int, default=50, help="characters of context each side")
    kw.add_argument("--all", action="store_true", help="include others' words (retweets)")
    kw.add_argument("--lemma", action="store_true", help="match every form of each word ('build model' finds 'built models')")
    cl = command("claims", "the profile's claims with their verdicts", cmd_claims)
    cl.add_argument("--status", choices=["supported", "contradicted", "lower_bound", "inconsistent", "not_checkable"])
    cl.add_argument("--id", help="claim id, '*' as wildcard (e.g. 'from-scratch*')")
    cl.add_argument("--evidence", action="store_true", help="show the passages behind each verdict")
    cl.add_argument("--audit", action="store_true",
                    help="compare every verdict with the hand-made audit (analysis/audit.yaml); exit 1 when any differs")
    command("report", "regenerate reports/index.html and reports/claims.md", cmd_report)
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
