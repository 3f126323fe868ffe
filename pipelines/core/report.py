"""The report: a self-contained HTML page (reports/index.html) and its Markdown twin (claims.md).

Pure code over a warehouse connection. All corpus text goes through Jinja2 autoescaping;
charts are inline SVG from matplotlib; nothing is loaded from the network when viewing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines.core import db
from pipelines.core.claims.spec import VERDICT_SEVERITY
from pipelines.core.tweetpage import write_tweet_page

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_ORDER = list(VERDICT_SEVERITY)


def warehouse_state(con: duckdb.DuckDBPyConnection) -> str:
    """A short hash of the warehouse's content (documents and their hashes), for provenance."""
    h = hashlib.sha256()
    for doc_id, sha in con.execute("SELECT doc_id, content_sha256 FROM documents ORDER BY doc_id").fetchall():
        h.update(f"{doc_id}:{sha}\n".encode())
    return h.hexdigest()[:16]


@dataclass
class ReportData:
    generated_at: str
    state: str
    published_at: str | None
    totals: dict[str, Any]
    kinds: list[dict[str, Any]]
    claims: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    verdict_counts: dict[str, int] = field(default_factory=dict)
    thinker: str | None = None  # the catalog's thinker: named in every title
    profile_page: str | None = None  # "profile.html" when the annotated profile was written
    chart_start: date | None = None  # the charts' first month, from the data
    claim_groups: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    coverage_by_kind: list[dict[str, Any]] = field(default_factory=list)
    coverage_overall: dict[str, Any] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    uncatalogued: list[dict[str, Any]] = field(default_factory=list)
    first_uses: list[dict[str, Any]] = field(default_factory=list)
    phrase_totals: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    citation_kwic: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)


def collect(con: duckdb.DuckDBPyConnection, *, published_at: str | None = None, kwic_per_entity: int = 3) -> ReportData:
    kinds = db.rows(
        con,
        """SELECT d.kind, count(*) AS documents, sum(d.word_count) AS words,
                  (SELECT sum(claimed_words) FROM sources s WHERE s.kind = d.kind
                      OR (d.kind = 'tweet' AND s.kind = 'tweet_archive')) AS claimed_words
           FROM documents d GROUP BY d.kind ORDER BY words DESC""",
    )
    totals = db.rows(con, "SELECT count(*) AS documents, coalesce(sum(word_count), 0) AS words FROM documents")[0]
    data = ReportData(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        state=warehouse_state(con),
        published_at=published_at,
        totals=totals,
        kinds=kinds,
    )
    data.rejected = db.rows(con, "SELECT coalesce(path, origin) AS path, status, error FROM snapshots WHERE status IN ('rejected','failed','not_collectable') ORDER BY 1")
    data.uncatalogued = db.rows(
        con,
        "SELECT d.doc_id, d.kind, d.title, d.url, d.word_count FROM documents d JOIN sources s USING (source_id) WHERE NOT s.in_catalog AND d.kind <> 'tweet' ORDER BY d.kind, d.title",
    )
    data.missing = db.rows(
        con,
        """SELECT s.source_id, s.kind, s.title, s.url, s.claimed_words,
                  (SELECT string_agg(DISTINCT coalesce(n.status || ': ' || n.error, n.status), '; ')
                     FROM snapshots n WHERE n.source_id = s.source_id) AS why
           FROM sources s
           WHERE s.in_catalog AND NOT s.known_gap AND s.kind NOT IN ('blog_feed')
             AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.source_id = s.source_id)
           ORDER BY s.kind, s.title""",
    )
    data.gaps = db.rows(
        con,
        """SELECT s.source_id, s.title, s.kind,
                  EXISTS (SELECT 1 FROM documents d WHERE d.source_id = s.source_id) AS closed
           FROM sources s WHERE s.known_gap ORDER BY s.title""",
    )
    if db.table_exists(con, "claims"):
        data.claims = db.rows(con, "SELECT *, rowid AS _order FROM claims")
        order = {v: i for i, v in enumerate(VERDICT_ORDER)}
        data.claims.sort(key=lambda c: (order.get(c["verdict"], 9), c.get("section") or "", c["claim_id"]))
        counts: dict[str, int] = defaultdict(int)
        for c in data.claims:
            counts[c["verdict"]] += 1
        data.verdict_counts = dict(counts)
        data.claim_groups = group_claims(data.claims)
    if db.table_exists(con, "claim_evidence"):
        for ev in db.rows(con, "SELECT * FROM claim_evidence ORDER BY claim_id, rank"):
            data.evidence.setdefault(ev["claim_id"], []).append(ev)
    if db.table_exists(con, "coverage"):
        data.coverage = db.rows(
            con,
            """SELECT source_id, kind, title, status, words, claimed_words, reason FROM coverage
               WHERE status <> 'collected' ORDER BY status, kind, source_id""",
        )
    if db.table_exists(con, "coverage_by_kind"):
        data.coverage_by_kind = db.rows(con, "SELECT * FROM coverage_by_kind ORDER BY kind")
    if db.table_exists(con, "coverage"):
        from pipelines.core.coverage import overall_coverage

        try:
            data.coverage_overall = overall_coverage(con)
        except Exception:  # noqa: BLE001 - a missing table must not stop the report
            data.coverage_overall = {}
    if db.table_exists(con, "first_uses"):
        data.first_uses = db.rows(con, "SELECT * FROM first_uses ORDER BY first_seen")
    if db.table_exists(con, "phrase_frequencies"):
        data.phrase_totals = db.rows(
            con,
            """SELECT phrase_id, sum(documents) FILTER (WHERE kind = 'tweet') AS tweets,
                      max(documents) FILTER (WHERE kind = '*') AS documents,
                      max(hits) FILTER (WHERE kind = '*') AS hits
               FROM phrase_frequencies WHERE period_month IS NULL GROUP BY 1 ORDER BY documents DESC NULLS LAST, 1""",
        )
    if db.table_exists(con, "citation_tallies"):
        data.citations = db.rows(
            con,
            "SELECT * FROM citation_tallies WHERE kind = '*' ORDER BY documents DESC, mentions DESC, entity_id",
        )
    if db.table_exists(con, "mentions") and db.table_exists(con, "sentences"):
        from pipelines.core.links import evidence_link

        rows = db.rows(
            con,
            # the first few own mentions per entity first; their sentences and caption times then
            # (looked up for those rows only, not for every mention of the corpus)
            """WITH top AS (
                   SELECT m.entity_id, m.alias, m.doc_id, m.sent_id, m.start_char, d.kind, d.title, d.url, d.published_at,
                          row_number() OVER (PARTITION BY m.entity_id ORDER BY d.published_at NULLS LAST, m.doc_id, m.start_char) AS rn
                   FROM mentions m JOIN documents d USING (doc_id)
                   WHERE d.is_own
                   QUALIFY rn <= ?
               )
               SELECT t.entity_id, t.alias, t.doc_id, t.kind, t.title, t.url, t.published_at, s.text AS sentence,
                      (SELECT min(g.start_s) FROM segments g WHERE g.doc_id = t.doc_id
                          AND g.start_char <= t.start_char AND g.end_char > t.start_char) AS start_s,
                      t.rn
               FROM top t JOIN sentences s ON s.doc_id = t.doc_id AND s.sent_id = t.sent_id
               ORDER BY t.entity_id, t.rn""",
            [kwic_per_entity],
        )
        for r in rows:
            r["link"] = evidence_link(r["kind"], r["url"], r["start_s"])
            data.citation_kwic.setdefault(r["entity_id"], []).append(r)
    data.charts = _charts(con, data)
    return data


def section_of(section: str | None) -> str:
    """The profile section a claim belongs to: "Axiom 4 — From Scratch" -> "Axiom 4", "Header / Written" -> "Header"."""
    text = (section or "Other").strip()
    for sep in (" / ", " — ", " - ", " ("):
        text = text.split(sep, 1)[0]
    return text.strip() or "Other"


def group_claims(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claims by profile section, sections in the order the profile's claims first name them; a
    section with a contradicted or inconsistent claim is shown open, the others collapsed."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(claims, key=lambda c: c.get("_order", 0)):
        groups.setdefault(section_of(c.get("section")), []).append(c)
    order = {v: i for i, v in enumerate(VERDICT_ORDER)}
    out = []
    for name, members in groups.items():
        members.sort(key=lambda c: (order.get(c["verdict"], 9), c["claim_id"]))
        counts: dict[str, int] = defaultdict(int)
        for c in members:
            counts[c["verdict"]] += 1
        out.append({
            "section": name,
            "claims": members,
            "counts": sorted(counts.items(), key=lambda kv: order.get(kv[0], 9)),
            "open": any(c["verdict"] in ("contradicted", "inconsistent") for c in members),
        })
    return out


def _month(d: Any) -> date:
    return date(d.year, d.month, 1)


CHART_SHARE = 0.95  # the charts start where this share of the dated documents lies after


def chart_start(con: duckdb.DuckDBPyConnection) -> date | None:
    """The first month of the charts, from the data: the month from which CHART_SHARE of the dated
    documents are dated (a long sparse past would squeeze the dense years into a corner)."""
    row = con.execute(
        "SELECT quantile_disc(published_at, ?) FROM documents WHERE published_at IS NOT NULL", [1 - CHART_SHARE]
    ).fetchone()
    return _month(row[0]) if row and row[0] is not None else None


def _charts(con: duckdb.DuckDBPyConnection, data: ReportData) -> dict[str, str]:
    from pipelines.core import charts  # matplotlib: imported only when pages are written

    out: dict[str, str] = {}
    start = chart_start(con) or date(1970, 1, 1)
    data.chart_start = start
    by_kind: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for kind, pub in con.execute(
        "SELECT kind, published_at FROM documents WHERE published_at IS NOT NULL AND published_at >= ?", [start]
    ).fetchall():
        by_kind[kind][_month(pub)] += 1
    eras = []
    if db.table_exists(con, "timeline"):
        eras = [
            (r["era_name"], r["start"], r["end"])
            for r in db.rows(
                con,
                """SELECT era_name, min(published_at)::DATE AS start, max(published_at)::DATE AS "end"
                   FROM timeline WHERE era_name IS NOT NULL AND published_at >= ?
                   GROUP BY era_name ORDER BY start""",
                [start],
            )
        ]
    markers = [(f["phrase_id"], f["first_seen"].date()) for f in data.first_uses
               if f.get("first_seen") and f["first_seen"].date() >= start][:8]
    if by_kind:
        out["timeline"] = charts.timeline_chart(
            {k: sorted(v.items()) for k, v in by_kind.items()}, eras=eras, markers=markers
        )
    if db.table_exists(con, "phrase_frequencies"):
        top = [p["phrase_id"] for p in data.phrase_totals if p.get("documents")][:8]
        series: dict[str, list[tuple[date, int]]] = {}
        for pid in top:
            pts = con.execute(
                """SELECT period_month, documents FROM phrase_frequencies
                   WHERE phrase_id = ? AND kind = '*' AND period_month IS NOT NULL
                     AND period_month >= ? ORDER BY 1""",
                [pid, start],
            ).fetchall()
            series[pid] = [(d, n) for d, n in pts]
        if any(series.values()):
            out["trends"] = charts.trends_chart(series)
    if data.verdict_counts:
        order = {v: i for i, v in enumerate(VERDICT_ORDER)}
        out["verdicts"] = charts.bar_chart(
            sorted(data.verdict_counts.items(), key=lambda kv: order.get(kv[0], 9)), "claims"
        )
    cov = [(k["kind"], float(k["claimed_words"] or 0), float(k["words"] or 0)) for k in data.kinds]
    if cov:
        out["coverage"] = charts.coverage_chart(cov)
    if data.citations:
        out["citations"] = charts.bar_chart(
            [(c["entity_id"], int(c["documents"])) for c in data.citations if c["documents"]][:20], "documents citing"
        )
    return out


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: "" if v is None else (f"{v:,.0f}" if isinstance(v, (int, float)) else str(v))
    env.filters["day"] = lambda v: "" if v is None else str(v)[:10]
    env.filters["md"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
    return env


def render_html(data: ReportData) -> str:
    return _env().get_template("report.html.j2").render(d=data)


def render_markdown(data: ReportData) -> str:
    env = _env()
    env.autoescape = False  # Markdown: the md filter escapes table-breaking and HTML characters
    return env.get_template("claims.md.j2").render(d=data)


def write_report(
    con: duckdb.DuckDBPyConnection, out_dir: Path, *, published_at: str | None = None, thinker: str | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Write reports/index.html, reports/claims.md and the searchable tweet archive reports/tweets.html;
    ``thinker`` (the catalog's name) titles them. With the ``profile`` file, also reports/profile.html:
    the profile annotated with its verdicts."""
    data = collect(con, published_at=published_at)
    data.thinker = thinker
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out_dir / "index.html", out_dir / "claims.md"
    profile_page = None
    if profile is not None and profile.is_file() and data.claims:
        from pipelines.core.profile_page import write_profile_page

        profile_page = write_profile_page(profile, data.claims, data.evidence, out_dir / "profile.html", thinker=thinker)
        data.profile_page = "profile.html"
    for path, text in ((html_path, render_html(data)), (md_path, render_markdown(data))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    tweets_path = write_tweet_page(con, out_dir, thinker=thinker, state=data.state)
    return {
        "html": str(html_path),
        "markdown": str(md_path),
        "tweets": str(tweets_path),
        "claims": len(data.claims),
        "verdicts": data.verdict_counts,
        "state": data.state,
        "profile_page": profile_page,
    }


REPORT_INPUTS = ".report-inputs.json"  # in the reports folder: what the pages were last written from
REPORT_CODE = ("pipelines.core.report", "pipelines.core.charts", "pipelines.core.tweetpage", "pipelines.core.profile_page")


def report_inputs(published: dict[str, Any] | None, *, thinker: str | None, profile: Path | None) -> str:
    """sha256 of everything the pages are made from: the published warehouse's publish record (its
    time and the digest of every step's fingerprint), the thinker's name, the profile's bytes, and
    the code and templates that render them. Equal inputs give equal pages (but for the time stamp)."""
    from pipelines.core.fingerprint import fingerprint

    record = json.dumps({k: (published or {}).get(k) for k in ("published_at", "state")}, sort_keys=True)
    files = sorted(TEMPLATES.iterdir()) + ([profile] if profile is not None else [])
    return fingerprint(None, files=files, modules=REPORT_CODE, extra=[record, thinker or "", str(profile or "")])


def write_report_unless_unchanged(
    con_factory: Any, out_dir: Path, *, published: dict[str, Any] | None, thinker: str | None = None,
    profile: Path | None = None,
) -> tuple[bool, dict[str, Any]]:
    """``write_report`` when its inputs (``report_inputs``) differ from those the pages were last
    written from, or a page is missing: (True, its result). Else (False, the last result), without
    opening the warehouse. ``con_factory()`` opens the connection (closed here)."""
    inputs = report_inputs(published, thinker=thinker, profile=profile)
    state_path = out_dir / REPORT_INPUTS
    try:
        last = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = None
    if isinstance(last, dict) and last.get("inputs") == inputs and isinstance(last.get("result"), dict):
        result = last["result"]
        pages = [result.get(k) for k in ("html", "markdown", "tweets", "profile_page") if result.get(k)]
        if all((out_dir / Path(p).name).is_file() for p in pages):
            return False, result
    state_path.unlink(missing_ok=True)  # forgotten before anything is rewritten
    con = con_factory()
    try:
        result = write_report(con, out_dir, published_at=(published or {}).get("published_at"), thinker=thinker,
                              profile=profile)
    finally:
        con.close()
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"inputs": inputs, "result": result}, indent=1), encoding="utf-8")
    tmp.replace(state_path)
    return True, result


def profile_path(project_root: Path, claims_path: Path) -> Path | None:
    """The profile file claims.yaml names (relative to the project), when it exists."""
    if not claims_path.is_file():
        return None
    from pipelines.core.claims.config import load_claims

    try:
        name = load_claims(claims_path).profile
    except ValueError:
        return None
    if not name:
        return None
    path = (project_root / name).resolve()
    return path if path.is_file() else None
