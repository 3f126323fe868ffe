"""Evaluate the profile's claims (analysis/claims.yaml) against the warehouse, with evidence.

Pure code over a DuckDB connection: no Dagster. ``evaluate_claims`` returns one row per claim
(the ``claims`` table) and the passages behind each number (``claim_evidence``);
``write_claim_tables`` evaluates and replaces both tables in one transaction.

Verdicts
  supported      the measured value satisfies the comparator
  contradicted   it does not, and missing material cannot explain it
  lower_bound    it does not, but the scope's coverage is incomplete and more data could only move
                 the value toward the claim (a count below the claim, a first use later than
                 claimed): we cannot refute what we could not see
  not_checkable  no data in scope, a table not built yet, or an opinion / interpretation /
                 Known Gap the profile states about itself
  inconsistent   the profile's own numbers do not add up (arithmetic claims; needs no data)

Coverage of a claim's scope = the documents of the scope's sources (within the scope's coverage
window) against what the catalog expects: the claimed item count of a tweet archive or blog
feed, one document per catalogued item, or the claimed words (see ``Scope`` in
``pipelines.core.claims_config``). It is complete when that ratio reaches 100% and no
catalogued source of the scope is missing.
"""

# SQL here is assembled only from fixed fragments and "?" placeholders; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import duckdb
import numpy as np

from pipelines.core.claims_config import (
    DATE_COMPARATORS,
    METRICS,
    UNJUDGED_TYPES,
    Claim,
    ClaimsConfig,
    MetricSpec,
    Scope,
    _num,
)
from pipelines.core.config import DOC_KIND_OF_SOURCE

_kwic_evidence_link: Callable[[str | None, str | None, float | None], str | None] | None
try:  # pipelines.core.kwic owns KWIC links; keep working without it
    from pipelines.core.kwic import evidence_link as _kwic_evidence_link
except Exception:  # pragma: no cover - depends on what is installed
    _kwic_evidence_link = None

VERDICTS = ("supported", "contradicted", "lower_bound", "not_checkable", "inconsistent")

CLAIMS_COLUMNS: list[tuple[str, str]] = [
    ("claim_id", "VARCHAR PRIMARY KEY"),
    ("section", "VARCHAR"),
    ("type", "VARCHAR"),
    ("quote", "VARCHAR"),
    ("metric", "VARCHAR"),
    ("comparator", "VARCHAR"),
    ("expected", "VARCHAR"),
    ("measured", "VARCHAR"),
    ("verdict", "VARCHAR"),
    ("explanation", "VARCHAR"),
    ("scope_docs", "BIGINT"),
    ("scope_words", "BIGINT"),
    ("expected_docs", "BIGINT"),
    ("expected_words", "BIGINT"),
    ("coverage_ratio", "DOUBLE"),
    ("evidence_count", "BIGINT"),
    ("evidence_shown", "INTEGER"),
    ("expected_value", "DOUBLE"),
    ("measured_value", "DOUBLE"),
]
EVIDENCE_COLUMNS: list[tuple[str, str]] = [
    ("claim_id", "VARCHAR"),
    ("rank", "INTEGER"),
    ("doc_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("title", "VARCHAR"),
    ("url", "VARCHAR"),
    ("link", "VARCHAR"),
    ("published_at", "TIMESTAMPTZ"),
    ("snippet", "VARCHAR"),
    ("matched_text", "VARCHAR"),
    ("score", "DOUBLE"),
]

NOUNS = {
    "tweet": "tweets",
    "video": "videos",
    "podcast": "podcasts",
    "blog_post": "blog posts",
    "paper": "papers",
    "repo": "repos",
    "other": "other documents",
}
CONTAINER_KINDS = {"tweet_archive", "blog_feed"}  # one catalog entry, many documents
SOURCE_KINDS_OF_DOC = {
    "tweet": ["tweet_archive"],
    "blog_post": ["blog_post", "blog_feed"],
    "video": ["video"],
    "podcast": ["podcast"],
    "paper": ["paper"],
    "repo": ["repo"],
    "other": [],
}
SNIPPET_WIDTH = 90
QUOTE_EVIDENCE_MIN_SCORE = 60.0


# --------------------------------------------------------------------------- links and snippets


def _fallback_evidence_link(kind: str | None, url: str | None, start_s: float | None = None) -> str | None:
    """The URL, with ``&t=<s>s`` (or ``?t=``) for a YouTube link when the second is known."""
    if not url:
        return None
    if start_s is None:
        return url
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith("youtube.com") or host.endswith("youtu.be"):
        return f"{url}{'&' if '?' in url else '?'}t={max(0, int(start_s))}s"
    return url


def evidence_link(kind: str | None, url: str | None, start_s: float | None = None) -> str | None:
    if _kwic_evidence_link is not None:
        try:
            return _kwic_evidence_link(kind, url, start_s)
        except TypeError:  # a different signature: fall back rather than fail a claim
            pass
    return _fallback_evidence_link(kind, url, start_s)


_WS = re.compile(r"\s+")


def snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """Keyword in context: the hit with about ``width`` characters either side, cut at spaces."""
    if not text:
        return ""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    a, b = max(0, start - width), min(len(text), end + width)
    if a > 0:
        sp = text.find(" ", a, start)
        a = sp + 1 if sp != -1 else a
    if b < len(text):
        sp = text.rfind(" ", end, b)
        b = sp if sp != -1 else b
    out = _WS.sub(" ", text[a:b]).strip()
    return ("…" if a > 0 else "") + out + ("…" if b < len(text) else "")


# --------------------------------------------------------------------------- quote normalisation

_APOSTROPHES = "'’‘`´ʼ"
_APOS_RE = re.compile(f"[{_APOSTROPHES}]")
_SEP_RE = re.compile(r"[\W_]+", re.UNICODE)
# ASCII text: letters lowered, digits kept, apostrophes deleted, everything else a space
_ASCII_APOS = "".join(c for c in _APOSTROPHES if c.isascii()).encode("ascii")
_ASCII_NORM = bytes(ord(chr(b).lower()) if chr(b).isalnum() else ord(" ") for b in range(256))


def normalize_quote_text(text: str) -> str:
    """Lower case; apostrophes dropped; every run of punctuation/whitespace one space.

    Curly and straight quotes, dashes, line breaks and double spaces all compare equal.
    """
    if text.isascii():  # the same, without the regular expressions: ASCII has no case surprises
        return " ".join(text.encode("ascii").translate(_ASCII_NORM, _ASCII_APOS).decode("ascii").split())
    return _SEP_RE.sub(" ", _APOS_RE.sub("", text).lower()).strip()


_OTHER, _ALNUM, _APOS = 0, 1, 2  # character classes of the quote normalisation
_EMPTY_MAP = np.zeros(0, dtype=np.int64)


@cache
def _bmp_classes() -> np.ndarray:
    """The class of every code point of the Basic Multilingual Plane (built once, 64 KiB)."""
    table = np.fromiter((ch.isalnum() for ch in map(chr, range(0x10000))), dtype=np.uint8, count=0x10000)
    table[[ord(c) for c in _APOSTROPHES]] = _APOS
    return table


def _classes(codes: np.ndarray) -> np.ndarray:
    """Per code point: _APOS for an apostrophe, _ALNUM when ``str.isalnum()``, else _OTHER."""
    table = _bmp_classes()
    astral = codes > 0xFFFF
    if not astral.any():
        return table[codes]
    cls = table[np.where(astral, 0, codes)]
    at = np.flatnonzero(astral)
    uniq, inv = np.unique(codes[at], return_inverse=True)
    cls[at] = np.array([chr(c).isalnum() for c in uniq.tolist()], dtype=np.uint8)[inv]
    return cls


def _norm_map(text: str) -> tuple[str, np.ndarray]:
    """``_normalize_with_map`` with the map as an int64 array; vectorised, no per-character loop.

    Same rules as the character loop it replaced: apostrophes are dropped without a trace (they
    split neither a word nor a run of separators); every other character that is not
    ``str.isalnum()`` starts or continues a run of separators, which becomes one space mapped to
    the run's first character (leading and trailing runs dropped); an alphanumeric character is
    lowered on its own (so a capital sigma is always "σ", never the final "ς" that ``str.lower``
    gives at the end of a word) and every character of its lower case (two for "İ") maps to its
    offset.
    """
    if not text:
        return "", _EMPTY_MAP
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    cls = _classes(codes)
    pos = np.flatnonzero(cls != _APOS)  # offsets of the characters that count
    alnum = cls[pos] == _ALNUM
    sep = ~alnum
    sep[1:] &= alnum[:-1]  # a separator run starts right after an alphanumeric character
    if len(sep):
        sep[0] = False  # a leading run is dropped
    sel = np.flatnonzero(alnum | sep)
    if len(sel) and not alnum[sel[-1]]:  # a trailing run is dropped
        sel = sel[:-1]
    if not len(sel):
        return "", _EMPTY_MAP
    out_codes = np.where(alnum[sel], codes[pos[sel]], np.uint32(32)).astype("<u4", copy=False)
    before = out_codes.tobytes().decode("utf-32-le", "surrogatepass")
    out = before.replace("Σ", "σ").lower()  # "Σ".lower() on its own is "σ"
    idx = pos[sel]
    if len(out) != len(before):  # a lower case longer than one character ("İ" -> "i̇")
        lens = np.ones(len(out_codes), dtype=np.int64)
        for c in np.unique(out_codes).tolist():
            n = len(chr(c).lower())
            if n != 1:
                lens[out_codes == c] = n
        idx = np.repeat(idx, lens)
    return out, idx.astype(np.int64, copy=False)


def _normalize_with_map(text: str) -> tuple[str, list[int]]:
    """``normalize_quote_text`` plus, per output character, its offset in ``text``."""
    out, idx = _norm_map(text)
    return out, idx.tolist()


def _align(needle: str, hay: str) -> tuple[float, int, int]:
    """(score 0-100, start, end) of the best match of ``needle`` inside ``hay`` (normalised)."""
    if not needle or not hay:
        return 0.0, 0, 0
    pos = hay.find(needle)
    if pos != -1:
        return 100.0, pos, pos + len(needle)
    from rapidfuzz import fuzz

    if len(hay) < len(needle):
        return float(fuzz.ratio(needle, hay)), 0, len(hay)
    res = fuzz.partial_ratio_alignment(needle, hay)
    if res is None:
        return 0.0, 0, 0
    return float(res.score), res.dest_start, res.dest_end


# --------------------------------------------------------------------------- evaluation context


@dataclass
class Hit:
    doc_id: str
    start: int | None = None
    end: int | None = None
    matched_text: str | None = None
    score: float | None = None


@dataclass
class Measure:
    value: float | date | None
    found: str  # what was found, as a sentence fragment a reader understands
    hits: list[Hit] = field(default_factory=list)
    evidence_count: int = 0
    display: str | None = None
    unavailable: str | None = None  # set when the metric cannot be measured (-> not_checkable)
    detail: str = ""  # appended after the verdict sentence


@dataclass
class ScopeStats:
    scope_docs: int | None = None
    scope_words: int | None = None
    base_docs: int | None = None
    base_words: int | None = None
    expected_docs: int | None = None
    expected_words: int | None = None
    ratio: float | None = None
    missing_sources: list[str] = field(default_factory=list)
    unknown_source_ids: list[str] = field(default_factory=list)
    noun: str = "documents"

    @property
    def complete(self) -> bool:
        return self.ratio is not None and self.ratio >= 1 - 1e-9 and not self.missing_sources


class Context:
    """Caches shared by the claims of one evaluation run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, max_evidence: int = 10):
        self.con = con
        self.max_evidence = max(1, max_evidence)
        self.tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        self._texts: dict[str, str] | None = None
        self._norm: dict[str, str] = {}
        self._maps: dict[str, tuple[str, np.ndarray]] = {}
        self._scope_stats: dict[str, ScopeStats] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._columns: dict[str, set[str]] = {}
        self.source_ids: set[str] = (
            {r[0] for r in con.execute("SELECT source_id FROM sources").fetchall()}
            if "sources" in self.tables
            else set()
        )

    def columns(self, table: str) -> set[str]:
        if table not in self._columns:
            self._columns[table] = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
                    [table],
                ).fetchall()
            }
        return self._columns[table]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {
                d: t or "" for d, t in self.con.execute("SELECT doc_id, text FROM documents").fetchall()
            }
        return self._texts

    def text(self, doc_id: str) -> str:
        return self.texts().get(doc_id, "")

    def norm(self, doc_id: str) -> str:
        if doc_id not in self._norm:
            self._norm[doc_id] = normalize_quote_text(self.text(doc_id))
        return self._norm[doc_id]

    def norm_map(self, doc_id: str) -> tuple[str, np.ndarray]:
        """The document normalised with its offset map (``_norm_map``), once per run."""
        if doc_id not in self._maps:
            self._maps[doc_id] = _norm_map(self.text(doc_id))
        return self._maps[doc_id]

    def scope_stats(self, scope: Scope) -> ScopeStats:
        """``scope_stats`` of the scope, measured once per run for the claims that share it."""
        key = scope.model_dump_json()
        if key not in self._scope_stats:
            self._scope_stats[key] = scope_stats(self, scope)
        return deepcopy(self._scope_stats[key])

    def meta(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        need = [d for d in dict.fromkeys(doc_ids) if d not in self._meta]
        if need:
            ph = ",".join("?" * len(need))
            for r in self.rows(
                f"SELECT doc_id, kind, title, url, published_at FROM documents WHERE doc_id IN ({ph})", need
            ):
                self._meta[r["doc_id"]] = r
        return {d: self._meta[d] for d in doc_ids if d in self._meta}

    def start_seconds(self, doc_id: str, pos: int | None) -> float | None:
        if pos is None or "segments" not in self.tables:
            return None
        r = self.con.execute(
            """SELECT start_s FROM segments
               WHERE doc_id = ? AND start_char IS NOT NULL AND start_char <= ? AND start_s IS NOT NULL
               ORDER BY start_char DESC, seq DESC LIMIT 1""",
            [doc_id, pos],
        ).fetchone()
        return float(r[0]) if r else None

    @property
    def sources_sql(self) -> str:
        if "sources" in self.tables:
            return "sources"
        return (
            "(SELECT NULL::VARCHAR AS source_id, NULL::VARCHAR AS kind, NULL::VARCHAR AS collection, "
            "NULL::VARCHAR AS url, NULL::BOOLEAN AS in_profile, NULL::BOOLEAN AS in_catalog, "
            "NULL::BOOLEAN AS known_gap, NULL::BIGINT AS claimed_items, NULL::BIGINT AS claimed_words WHERE false)"
        )


def _utc(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def _as_date(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).date()
    return v if isinstance(v, date) else None


def _ph(n: int) -> str:
    return ",".join("?" * n)


def _select_sources(scope: Scope, alias: str, conds: list[str], params: list[Any]) -> None:
    """Append the scope's source selection to ``conds`` / ``params``: any of its source ids, URL
    patterns or collection, minus its excluded source ids. ``alias`` is the table whose
    ``source_id`` and ``url`` are matched ("d" documents or "s" sources; the collection is always
    the joined source's ``s.collection``)."""
    sel: list[str] = []
    if scope.source_ids:
        sel.append(f"{alias}.source_id IN ({_ph(len(scope.source_ids))})")
        params += scope.source_ids
    for pat in scope.url_like:
        sel.append(f"{alias}.url ILIKE ?")
        params.append(pat)
    if scope.collection:
        sel.append("s.collection = ?")
        params.append(scope.collection)
    if sel:
        conds.append("(" + " OR ".join(sel) + ")")
    if scope.exclude_source_ids:
        conds.append(f"{alias}.source_id NOT IN ({_ph(len(scope.exclude_source_ids))})")
        params += scope.exclude_source_ids


def scope_cte(
    ctx: Context,
    scope: Scope,
    *,
    own: bool | None = None,
    window: tuple[date | None, date | None] | None = None,
) -> tuple[str, list[Any]]:
    """``WITH scope AS (...)`` selecting the scope's documents, and its parameters.

    ``own`` overrides scope.own_only; ``window`` overrides the scope's date range.
    """
    conds: list[str] = []
    params: list[Any] = []
    if scope.kinds:
        conds.append(f"d.kind IN ({_ph(len(scope.kinds))})")
        params += scope.kinds
    _select_sources(scope, "d", conds, params)
    if scope.in_profile is not None:  # the profile's corpus: named by it, not one of its Known Gaps
        conds.append("(coalesce(s.in_profile, false) AND NOT coalesce(s.known_gap, false)) = ?")
        params.append(scope.in_profile)
    if scope.in_catalog is not None:
        conds.append("coalesce(s.in_catalog, false) = ?")
        params.append(scope.in_catalog)
    if scope.own_only if own is None else own:
        conds.append("coalesce(d.is_own, true)")
    lo, hi = window if window is not None else (scope.day_from, scope.day_to)
    if lo:
        conds.append("d.published_at >= ?")
        params.append(_utc(lo))
    if hi:
        conds.append("d.published_at < ?")
        params.append(_utc(hi + timedelta(days=1)))
    where = " AND ".join(conds) or "TRUE"
    sql = (
        "WITH scope AS (SELECT d.doc_id, d.source_id, d.kind, d.title, d.url, d.published_at, "
        "coalesce(d.word_count, 0) AS word_count "
        f"FROM documents d LEFT JOIN {ctx.sources_sql} s ON s.source_id = d.source_id WHERE {where})"
    )
    return sql, params


def scope_stats(ctx: Context, scope: Scope) -> ScopeStats:
    st = ScopeStats()
    cte, params = scope_cte(ctx, scope)
    st.scope_docs, st.scope_words, kinds_seen = ctx.con.execute(
        f"{cte} SELECT count(*), coalesce(sum(word_count), 0), list(DISTINCT kind) FROM scope", params
    ).fetchone()  # type: ignore[misc]
    kinds = set(scope.kinds) or {k for k in (kinds_seen or []) if k}
    cov_window = (
        scope.coverage_from.start if scope.coverage_from else None,
        scope.coverage_to.end if scope.coverage_to else None,
    )
    cte, params = scope_cte(ctx, scope, own=False, window=cov_window)
    st.base_docs, st.base_words = ctx.con.execute(
        f"{cte} SELECT count(*), coalesce(sum(word_count), 0) FROM scope", params
    ).fetchone()  # type: ignore[misc]
    st.unknown_source_ids = [s for s in scope.source_ids if s not in ctx.source_ids]

    # What the catalog expects of the scope's sources.
    exp_docs: int | None = None
    exp_words: int | None = None
    if "sources" in ctx.tables:
        conds = ["coalesce(s.in_catalog, false)", "NOT coalesce(s.known_gap, false)"]
        params = []
        if scope.kinds:
            skinds = sorted({k for dk in scope.kinds for k in SOURCE_KINDS_OF_DOC.get(dk, [])})
            if not skinds:
                skinds = ["-none-"]
            conds.append(f"s.kind IN ({_ph(len(skinds))})")
            params += skinds
        _select_sources(scope, "s", conds, params)
        if scope.in_profile is not None:
            conds.append("coalesce(s.in_profile, false) = ?")
            params.append(scope.in_profile)
        if scope.in_catalog is False:
            conds.append("false")
        srcs = ctx.rows(
            f"""SELECT s.source_id, s.kind, s.collection, s.claimed_items, s.claimed_words,
                       (SELECT count(*) FROM documents d WHERE d.source_id = s.source_id) AS docs
                FROM sources s WHERE {" AND ".join(conds)} ORDER BY s.source_id""",
            params,
        )
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for s in srcs:
            key = (
                s["kind"] if s["kind"] not in ("blog_post", "blog_feed") else "blog",
                s["collection"] or "",
            )
            g = groups.setdefault(key, {"containers": 0, "known": False, "items": 0})
            if s["kind"] in CONTAINER_KINDS:
                if s["claimed_items"] is not None:
                    g["containers"] += int(s["claimed_items"])
                    g["known"] = True
                if s["kind"] == "tweet_archive" and not s["docs"]:
                    st.missing_sources.append(s["source_id"])
            else:
                g["items"] += 1
                g["known"] = True
                if not s["docs"]:
                    st.missing_sources.append(s["source_id"])
            if s["claimed_words"] is not None:
                exp_words = (exp_words or 0) + int(s["claimed_words"])
        if not kinds:
            kinds = {DOC_KIND_OF_SOURCE.get(x["kind"], x["kind"]) for x in srcs}
        if any(g["known"] for g in groups.values()):
            exp_docs = sum(max(g["containers"], g["items"]) for g in groups.values())
    st.noun = NOUNS.get(next(iter(kinds)), "documents") if len(kinds) == 1 else "documents"
    st.expected_docs = scope.expected_docs if scope.expected_docs is not None else exp_docs
    st.expected_words = scope.expected_words if scope.expected_words is not None else exp_words
    if st.expected_docs:
        st.ratio = st.base_docs / st.expected_docs
    elif st.expected_words:
        st.ratio = st.base_words / st.expected_words
    return st


# --------------------------------------------------------------------------- metrics


MetricFn = Callable[[Context, Claim, ScopeStats], Measure]
_IMPL: dict[str, MetricFn] = {}


def metric(name: str) -> Callable[[MetricFn], MetricFn]:
    def deco(fn: MetricFn) -> MetricFn:
        if name not in METRICS:
            raise KeyError(f"metric {name!r} is not in the registry (pipelines/core/claims_config.py)")
        _IMPL[name] = fn
        return fn

    return deco


def implemented_metrics() -> set[str]:
    return set(_IMPL)


def _window_text(scope: Scope) -> str:
    lo, hi = scope.day_from, scope.day_to
    if lo and hi:
        return f" dated {lo} to {hi}"
    if lo:
        return f" dated from {lo}"
    if hi:
        return f" dated up to {hi}"
    return ""


def _doc_ref(meta: dict[str, Any], doc_id: str, *, with_date: bool = False) -> str:
    """A document as explanations name it: "'Title' (video, 2025-02-05)", or "a tweet of 2025-02-02
    (tweet-123)" when it has no title of its own."""
    kind = meta.get("kind") or "document"
    when = _as_date(meta.get("published_at")) if with_date else None
    title = meta.get("title")
    if title and title != doc_id:
        return f"{title!r} ({kind}{', ' + str(when) if when else ''})"
    return f"a {kind.replace('_', ' ')}{' of ' + str(when) if when else ''} ({doc_id})"


def _label(claim: Claim, default: str) -> str:
    return claim.label or default


def _n(n: int | None, noun: str) -> str:
    """'1 video', '3 videos', '1,204 tweets'."""
    n = n or 0
    return f"{n:,} {_singular(noun) if n == 1 else noun}"


def _singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") else noun


@metric("documents")
def _m_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    docs = ctx.rows(f"{cte} SELECT doc_id FROM scope ORDER BY published_at NULLS LAST, doc_id", params)
    n = len(docs)
    return Measure(
        float(n),
        f"found {_n(n, st.noun)}{_window_text(claim.scope)} ({st.scope_words or 0:,} words)",
        hits=[Hit(d["doc_id"]) for d in docs],
        evidence_count=n,
    )


@metric("words")
def _m_words(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    docs = ctx.rows(f"{cte} SELECT doc_id, word_count FROM scope ORDER BY word_count DESC, doc_id", params)
    words = sum(int(d["word_count"] or 0) for d in docs)
    return Measure(
        float(words),
        f"found {words:,} words in {_n(len(docs), st.noun)}{_window_text(claim.scope)}",
        hits=[Hit(d["doc_id"]) for d in docs],
        evidence_count=len(docs),
    )


@metric("megabytes")
def _m_megabytes(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    b, n = ctx.con.execute(
        f"{cte} SELECT coalesce(sum(octet_length(encode(coalesce(d.text, '')))), 0), count(*) "
        "FROM scope JOIN documents d USING (doc_id)",
        params,
    ).fetchone()  # type: ignore[misc]
    mb = b / 1e6
    return Measure(mb, f"the text of {_n(n, st.noun)} is {mb:.2f} MB (UTF-8)", display=f"{mb:.2f}")


@metric("duration_hours")
def _m_duration(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    rows = ctx.rows(
        f"""{cte} SELECT sc.doc_id, max(g.end_s) FILTER (WHERE g.end_s > 0) AS end_s FROM scope sc
            LEFT JOIN segments g ON g.doc_id = sc.doc_id GROUP BY sc.doc_id ORDER BY sc.doc_id""",
        params,
    )
    timed = [r for r in rows if r["end_s"] is not None]
    if not timed:
        return Measure(
            None, "", unavailable=f"none of the {len(rows)} {st.noun} in scope has caption timings"
        )
    hours = sum(float(r["end_s"]) for r in timed) / 3600
    untimed = len(rows) - len(timed)
    extra = f" ({untimed} without timings)" if untimed else ""
    return Measure(
        hours,
        f"by their caption timings the {_n(len(timed), 'timed ' + st.noun)} in scope "
        f"{'run' if len(timed) != 1 else 'runs'} {hours:.2f} hours{extra}",
        display=f"{hours:.2f}",
        hits=[Hit(r["doc_id"]) for r in timed],
        evidence_count=len(timed),
    )


def _date_measure(ctx: Context, claim: Claim, st: ScopeStats, *, first: bool) -> Measure:
    cte, params = scope_cte(ctx, claim.scope)
    order = "ASC" if first else "DESC"
    rows = ctx.rows(
        f"{cte} SELECT doc_id, title, kind, published_at FROM scope WHERE published_at IS NOT NULL "
        f"ORDER BY published_at {order}, doc_id",
        params,
    )
    if not rows:
        return Measure(None, "", unavailable=f"none of the {st.scope_docs} {st.noun} in scope carries a date")
    top = rows[0]
    d = _as_date(top["published_at"])
    which = "earliest" if first else "latest"
    return Measure(
        d,
        f"the {which} dated {_singular(st.noun)} in scope is {_doc_ref(top, top['doc_id'])} of {d}",
        hits=[Hit(r["doc_id"]) for r in rows],
        evidence_count=len(rows),
        display=str(d),
    )


@metric("first_date")
def _m_first_date(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    return _date_measure(ctx, claim, st, first=True)


@metric("last_date")
def _m_last_date(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    return _date_measure(ctx, claim, st, first=False)


def _table_hits(ctx: Context, claim: Claim, table: str, id_col: str, id_value: str) -> list[dict[str, Any]]:
    """All hits (phrase_hits / mentions) of one id inside the claim's scope, oldest first."""
    cte, params = scope_cte(ctx, claim.scope)
    if table == "phrase_hits":
        text_col = "h.matched_text"
    else:  # the words as written when the mentions table keeps them, else the lexicon alias
        text_col = "coalesce(h.matched_text, h.alias)" if "matched_text" in ctx.columns(table) else "h.alias"
    return ctx.rows(
        f"""{cte} SELECT h.doc_id, h.start_char, h.end_char, {text_col} AS matched_text,
                   sc.published_at, sc.kind, sc.title
            FROM {table} h JOIN scope sc ON sc.doc_id = h.doc_id
            WHERE h.{id_col} = ?
            ORDER BY sc.published_at NULLS LAST, h.doc_id, h.start_char""",
        [*params, id_value],
    )


def _first_per_doc(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if h["doc_id"] not in seen:
            seen.add(h["doc_id"])
            out.append(h)
    return out


def _hit(h: dict[str, Any]) -> Hit:
    return Hit(h["doc_id"], h["start_char"], h["end_char"], h["matched_text"])


def _said(hits: list[dict[str, Any]], fallback: str) -> str:
    texts = Counter((h["matched_text"] or "").lower() for h in hits if h.get("matched_text"))
    return texts.most_common(1)[0][0] if texts else fallback


def _phrase_label(claim: Claim, hits: list[dict[str, Any]]) -> str:
    return claim.label or _said(hits, claim.params["phrase"].replace("_", " "))


@metric("phrase_documents")
def _m_phrase_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    docs = _first_per_doc(hits)
    label = _phrase_label(claim, hits)
    return Measure(
        float(len(docs)),
        f"found {_n(len(docs), st.noun)} with '{label}' in {_n(st.scope_docs, 'collected ' + st.noun)}{_window_text(claim.scope)}",
        hits=[_hit(h) for h in docs],
        evidence_count=len(docs),
    )


@metric("phrase_hits")
def _m_phrase_hits(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    ndocs = len({h["doc_id"] for h in hits})
    label = _phrase_label(claim, hits)
    return Measure(
        float(len(hits)),
        f"found {len(hits):,} uses of '{label}' in {ndocs:,} of {_n(st.scope_docs, 'collected ' + st.noun)}"
        f"{_window_text(claim.scope)}",
        hits=[_hit(h) for h in hits],
        evidence_count=len(hits),
    )


def _first_use(hits: list[dict[str, Any]], label: str, st: ScopeStats, claim: Claim) -> Measure:
    dated = [h for h in _first_per_doc(hits) if h["published_at"] is not None]
    if not dated:
        undated = len({h["doc_id"] for h in hits})
        tail = f" ({undated} undated {st.noun} use it)" if undated else ""
        return Measure(
            None,
            f"found no dated use of '{label}' in {_n(st.scope_docs, 'collected ' + st.noun)}{_window_text(claim.scope)}{tail}",
        )
    first = dated[0]
    d = _as_date(first["published_at"])
    return Measure(
        d,
        f"the earliest use of '{label}' found is {d}, in {_doc_ref(first, first['doc_id'])}, "
        f"among {_n(len(dated), 'dated ' + st.noun)} using it",
        hits=[_hit(h) for h in dated],
        evidence_count=len(dated),
        display=str(d),
    )


@metric("phrase_first_use")
def _m_phrase_first_use(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "phrase_hits", "phrase_id", claim.params["phrase"])
    return _first_use(hits, _phrase_label(claim, hits), st, claim)


def _entity_label(claim: Claim) -> str:
    return claim.label or claim.params["entity"].replace("_", " ").title()


@metric("entity_documents")
def _m_entity_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "mentions", "entity_id", claim.params["entity"])
    docs = _first_per_doc(hits)
    return Measure(
        float(len(docs)),
        f"found {_n(len(docs), st.noun)} citing {_entity_label(claim)} ({_n(len(hits), 'mentions')}) in "
        f"{_n(st.scope_docs, 'collected ' + st.noun)}{_window_text(claim.scope)}",
        hits=[_hit(h) for h in docs],
        evidence_count=len(docs),
    )


@metric("entity_mentions")
def _m_entity_mentions(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _table_hits(ctx, claim, "mentions", "entity_id", claim.params["entity"])
    ndocs = len({h["doc_id"] for h in hits})
    return Measure(
        float(len(hits)),
        f"found {len(hits):,} mentions of {_entity_label(claim)} in {ndocs:,} of {st.scope_docs:,} collected "
        f"{st.noun}{_window_text(claim.scope)}",
        hits=[_hit(h) for h in hits],
        evidence_count=len(hits),
    )


@metric("entity_rank")
def _m_entity_rank(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    target = claim.params["entity"]
    among: list[str] | None = claim.params.get("among")
    by = claim.params.get("by", "documents")
    cte, params = scope_cte(ctx, claim.scope)
    rows = ctx.rows(
        f"""{cte} SELECT m.entity_id, count(DISTINCT m.doc_id) AS documents, count(*) AS mentions
            FROM mentions m JOIN scope sc ON sc.doc_id = m.doc_id GROUP BY m.entity_id""",
        params,
    )
    counts = {r["entity_id"]: int(r[by]) for r in rows}
    pool = set(among) if among else set(counts)
    pool.add(target)
    mine = counts.get(target, 0)
    rank = 1 + sum(1 for e in pool if e != target and counts.get(e, 0) > mine)
    ties = sorted(e for e in pool if e != target and counts.get(e, 0) == mine and mine > 0)
    ranked = sorted(((counts.get(e, 0), e) for e in pool if e != target), reverse=True)
    leader = next(((n, e) for n, e in ranked if n > mine), None)
    parts = [
        f"{_entity_label(claim)} is cited in {mine:,} {by} in scope and ranks {rank} of {len(pool)} tracked"
        + (" contemporaries" if among else " entities")
    ]
    if ties:
        parts.append(f"tied with {', '.join(ties[:3])}")
    if leader:
        parts.append(f"{leader[1]} leads with {leader[0]:,}")
    elif ranked and not ties:
        parts.append(f"next is {ranked[0][1]} with {ranked[0][0]:,}")
    hits = _first_per_doc(_table_hits(ctx, claim, "mentions", "entity_id", target))
    return Measure(
        float(rank),
        "; ".join(parts),
        hits=[_hit(h) for h in hits],
        evidence_count=len(hits),
        display=str(rank),
    )


def _pattern_hits(ctx: Context, claim: Claim) -> list[dict[str, Any]]:
    rx = re.compile(claim.params["pattern"], re.IGNORECASE)
    cte, params = scope_cte(ctx, claim.scope)
    docs = ctx.rows(
        f"{cte} SELECT doc_id, kind, title, published_at FROM scope ORDER BY published_at NULLS LAST, doc_id",
        params,
    )
    out = []
    for d in docs:
        m = rx.search(ctx.text(d["doc_id"]))
        if m:
            out.append({**d, "start_char": m.start(), "end_char": m.end(), "matched_text": m.group(0)})
    return out


def _pattern_label(claim: Claim, hits: list[dict[str, Any]]) -> str:
    return claim.label or claim.params.get("label") or _said(hits, claim.params["pattern"])


@metric("pattern_documents")
def _m_pattern_documents(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _pattern_hits(ctx, claim)
    label = _pattern_label(claim, hits)
    return Measure(
        float(len(hits)),
        f"found {_n(len(hits), st.noun)} with '{label}' in {_n(st.scope_docs, 'collected ' + st.noun)}{_window_text(claim.scope)}",
        hits=[_hit(h) for h in hits],
        evidence_count=len(hits),
    )


@metric("pattern_first_use")
def _m_pattern_first_use(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    hits = _pattern_hits(ctx, claim)
    return _first_use(hits, _pattern_label(claim, hits), st, claim)


def _has_words(hay: str, words: Sequence[str], need: int) -> bool:
    """Whether at least ``need`` of ``words`` occur in ``hay``; stops as soon as that is known."""
    spare = len(words) - need  # how many may be missing
    for w in words:
        if w in hay:
            need -= 1
            if need <= 0:
                return True
        else:
            spare -= 1
            if spare < 0:
                return False
    return need <= 0


def _best_quote(ctx: Context, needle: str, doc_ids: Sequence[str]) -> list[tuple[float, str, int, int]]:
    """(score, doc_id, start, end in normalised text), best first, for docs worth aligning."""
    words = {w for w in needle.split() if len(w) >= 4} or set(needle.split())
    need = max(1, (len(words) + 1) // 2)
    ordered = sorted(words, key=lambda w: (-len(w), w))  # the longer, the rarer: fail sooner
    out = []
    for doc_id in doc_ids:
        hay = ctx.norm(doc_id)
        if not hay:
            continue
        p = hay.find(needle)
        if p != -1:
            out.append((100.0, doc_id, p, p + len(needle)))
            continue
        if not _has_words(hay, ordered, need):
            continue
        score, a, b = _align(needle, hay)
        if score > 0:
            out.append((score, doc_id, a, b))
    out.sort(key=lambda x: (-x[0], x[1]))
    return out


def _quote_hit(ctx: Context, needle: str, doc_id: str, score: float, span: tuple[int, int]) -> Hit:
    """Locate the match in the original text (offsets for the snippet and the timestamp).

    ``span`` is where ``_best_quote`` aligned the needle in ``ctx.norm(doc_id)``; it is reused
    when the mapped normalisation is the same string (it differs only for a capital sigma or a
    dotted capital I), else the needle is aligned again.
    """
    text = ctx.text(doc_id)
    norm, idx = ctx.norm_map(doc_id)
    a, b = span if norm == ctx.norm(doc_id) else _align(needle, norm)[1:]
    if not len(idx) or b <= a:
        return Hit(doc_id, None, None, None, score)
    start, end = int(idx[min(a, len(idx) - 1)]), int(idx[min(b, len(idx)) - 1]) + 1
    return Hit(doc_id, start, end, text[start:end], round(score, 1))


@metric("quote_match")
def _m_quote(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    needle = normalize_quote_text(claim.params.get("text") or claim.quote)
    threshold = claim.expected_number() if claim.comparator in ("ge", "gt") else 90.0
    cte, params = scope_cte(ctx, claim.scope, own=claim.scope.own_only)
    in_scope = [
        r[0] for r in ctx.con.execute(f"{cte} SELECT doc_id FROM scope ORDER BY doc_id", params).fetchall()
    ]
    ranked = _best_quote(ctx, needle, in_scope)
    # Evidence: the passages that pass; when none does, the closest few, so a reader sees why.
    good = [r for r in ranked if r[0] >= threshold]
    shown = good or [r for r in ranked if r[0] >= QUOTE_EVIDENCE_MIN_SCORE][:3]
    best = ranked[0] if ranked else None
    hits = [_quote_hit(ctx, needle, d, s, (a, b)) for s, d, a, b in shown[: ctx.max_evidence]]
    score = round(best[0], 1) if best else 0.0
    if best:
        m = ctx.meta([best[1]])[best[1]]
        how = "verbatim" if score >= 100 else f"{score:g}/100"
        found = (
            f"the closest passage in {_n(st.scope_docs, st.noun)} in scope is {how} "
            f"in {_doc_ref(m, best[1], with_date=True)}"
        )
    else:
        found = f"no passage in {_n(st.scope_docs, st.noun)} in scope resembles the quote"
    detail = ""
    if score < threshold and (
        claim.scope.selects_sources or claim.scope.kinds or claim.scope.day_from or claim.scope.day_to
    ):
        inside = set(in_scope)
        others = [d for d in ctx.texts() if d not in inside]
        elsewhere = [r for r in _best_quote(ctx, needle, others) if r[0] >= threshold]
        if elsewhere:
            s, d, _, _ = elsewhere[0]
            m = ctx.meta([d])[d]
            detail = (
                f" It does appear outside the attributed scope, in {_doc_ref(m, d, with_date=True)}: "
                f"{round(s, 1):g}/100."
            )
            hits += [_quote_hit(ctx, needle, d2, s2, (a2, b2)) for s2, d2, a2, b2 in elsewhere[:3]]
    return Measure(
        score,
        found,
        hits=hits,
        evidence_count=len(good),
        display=f"{score:g}/100",
        detail=detail,
    )


@metric("profile_share")
def _m_profile_share(ctx: Context, claim: Claim, st: ScopeStats) -> Measure:
    basis = claim.params.get("basis", "sources")
    from pipelines.core.coverage import overall_coverage

    cov = overall_coverage(ctx.con)
    if basis == "sources":
        if not cov["catalog_sources"]:
            return Measure(None, "", unavailable="the catalog lists no sources")
        share = cov["profile_sources"] / cov["catalog_sources"]
        found = (
            f"{cov['profile_sources']} of {cov['catalog_sources']} catalogued public sources are in the profile's corpus "
            f"({share:.0%}); {cov['known_gap_sources']} are Known Gaps and {cov['other_sources']} are sources the "
            "profile does not name"
        )
    else:
        if not cov["all_words"]:
            return Measure(None, "", unavailable="no words collected yet")
        share = cov["profile_words"] / cov["all_words"]
        found = (
            f"the profile's sources hold {cov['profile_words']:,} of the {cov['all_words']:,} words collected "
            f"({share:.0%}); the rest comes from Known Gaps, sources the profile does not name and uncatalogued finds"
        )
    return Measure(share, found, display=f"{share:.2f}")


def _terms_text(terms: list[float]) -> str:
    shown = [_num(t) for t in terms[:14]]
    return " + ".join(shown) + (" + …" if len(terms) > 14 else "")


@metric("profile_sum")
def _m_profile_sum(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    terms = [float(t) for t in claim.params["terms"]]
    total = sum(terms)
    return Measure(total, f"the parts add up to {_num(total)} ({_terms_text(terms)})")


@metric("profile_count")
def _m_profile_count(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    items = claim.params["items"]
    shown = ", ".join(items[:6]) + (", …" if len(items) > 6 else "")
    return Measure(float(len(items)), f"the list has {len(items)} entries ({shown})")


@metric("profile_value")
def _m_profile_value(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    v = float(claim.params["value"])
    return Measure(v, f"it says {_num(v)}")


@metric("profile_date")
def _m_profile_date(ctx: Context | None, claim: Claim, st: ScopeStats | None) -> Measure:
    from pipelines.core.claims_config import parse_period

    p = parse_period(claim.params["value"])
    return Measure(p.start, f"it is dated {p.text}", display=p.text)


# --------------------------------------------------------------------------- comparing and judging


def compare(claim: Claim, value: float | date | None) -> tuple[bool, str | None]:
    """(passed, side): side is 'below' or 'above' the accepted region when it failed.

    For dates 'below' means earlier. A missing value (nothing found) counts as failing on the
    side more data could fix: below for counts, above (later) for first-use dates.
    """
    spec = METRICS[claim.metric or ""]
    if value is None:
        return False, "above" if spec.direction == "down" else "below"
    if claim.comparator in DATE_COMPARATORS:
        lo, hi = claim.expected_window()
        day = _as_date(value)
        if day is None:
            raise ValueError(f"claim {claim.id}: a date comparator needs a date, got {value!r}")
        if lo and day < lo:
            return False, "below"
        if hi and day > hi:
            return False, "above"
        return True, None
    if isinstance(value, date):
        raise ValueError(f"claim {claim.id}: a number comparator needs a number, got {value!r}")
    e = claim.expected_number()
    v = float(value)
    eps = 1e-9 * max(1.0, abs(e))
    c = claim.comparator
    if c == "eq":
        ok = abs(v - e) <= eps
    elif c == "ge":
        ok = v >= e - eps
    elif c == "gt":
        ok = v > e + eps
    elif c == "le":
        ok = v <= e + eps
    elif c == "lt":
        ok = v < e - eps
    elif c == "approx" and claim.tolerance is not None:
        ok = abs(v - e) <= claim.tolerance.allowed(e) + eps
    else:  # pragma: no cover - validated at load
        raise ValueError(f"unknown comparator {c!r}")
    if ok:
        return True, None
    if c in ("ge", "gt"):
        return False, "below"
    if c in ("le", "lt"):
        return False, "above"
    return False, "below" if v < e else "above"


def _claims_phrase(claim: Claim) -> str:
    exp = claim.expected_text()
    c = claim.comparator
    if c == "le" and claim.expected == 0:
        return "profile claims none"
    words = {
        "eq": "profile claims",
        "ge": "profile claims at least",
        "gt": "profile claims more than",
        "le": "profile claims at most",
        "lt": "profile claims fewer than",
        "approx": "profile claims about",
        "within": "profile dates it",
        "before": "profile dates it before",
        "after": "profile dates it after",
    }
    return f"{words[c or 'eq']} {exp}"


def _coverage_text(st: ScopeStats) -> str:
    if st.ratio is None:
        text = "the catalog gives no expected size for this scope, so missing material cannot be ruled out"
    elif st.expected_docs:
        text = f"the collection covers {st.ratio:.0%} of the claimed {_n(st.expected_docs, st.noun)}"
    else:
        text = f"the collection holds {st.ratio:.0%} of the claimed {st.expected_words or 0:,} words"
    if st.missing_sources:
        shown = ", ".join(st.missing_sources[:3])
        more = f" (+{len(st.missing_sources) - 3} more)" if len(st.missing_sources) > 3 else ""
        text += f"; not collected: {shown}{more}"
    return text


def _missing_text(st: ScopeStats) -> str:
    parts = []
    if st.expected_docs and st.base_docs is not None and st.base_docs < st.expected_docs:
        gap = st.expected_docs - st.base_docs
        parts.append(
            f"{gap:,} of the claimed {_n(st.expected_docs, st.noun)} {'is' if gap == 1 else 'are'} not collected"
        )
    if st.missing_sources:
        parts.append(f"catalogued sources not collected: {', '.join(st.missing_sources[:5])}")
    if st.ratio is None:
        parts.append("the catalog gives no expected size to measure the gap")
    return "; ".join(parts) or "the scope is not fully collected"


def _display(value: float | date | None, spec: MetricSpec | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return str(value)
    return _num(value)


def _empty_row(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": claim.id,
        "section": claim.section,
        "type": claim.type,
        "quote": claim.quote,
        "metric": claim.metric,
        "comparator": claim.comparator,
        "expected": claim.expected_text() or None,
        "measured": None,
        "verdict": "not_checkable",
        "explanation": "",
        "scope_docs": None,
        "scope_words": None,
        "expected_docs": None,
        "expected_words": None,
        "coverage_ratio": None,
        "evidence_count": 0,
        "evidence_shown": 0,
        "expected_value": claim.expected_number()
        if claim.comparator and claim.comparator not in DATE_COMPARATORS
        else None,
        "measured_value": None,
    }


def _sentence(s: str) -> str:
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s.endswith((".", "!", "?")) else s + "."


def evaluate_claim(ctx: Context | None, claim: Claim) -> tuple[dict[str, Any], Measure | None]:
    """One claim's row (without evidence rows) and the measure behind it."""
    row = _empty_row(claim)
    spec = METRICS.get(claim.metric) if claim.metric else None
    if spec is None:  # not_checkable / known_gap without a metric
        row["explanation"] = _sentence(claim.reason or "not checkable")
        return row, None

    st: ScopeStats | None = None
    if spec.needs_data:
        if ctx is None:
            row["explanation"] = _sentence(f"no warehouse to read; {claim.reason or ''}".strip("; "))
            return row, None
        missing = [t for t in spec.tables if t not in ctx.tables]
        if missing:
            row["explanation"] = _sentence(
                f"not checkable yet: table {', '.join(missing)} is not built"
                + (f"; {claim.reason}" if claim.reason else "")
            )
            return row, None
        if "documents" in spec.tables:
            st = ctx.scope_stats(claim.scope)
            row.update(
                scope_docs=st.scope_docs,
                scope_words=st.scope_words,
                expected_docs=st.expected_docs,
                expected_words=st.expected_words,
                coverage_ratio=round(st.ratio, 4) if st.ratio is not None else None,
            )
            if not st.scope_docs and claim.type not in UNJUDGED_TYPES:
                why = f"no collected {st.noun} in scope{_window_text(claim.scope)}"
                if st.unknown_source_ids:
                    why += f" (source ids not in the warehouse: {', '.join(st.unknown_source_ids)})"
                elif st.missing_sources:
                    why += f" (not collected: {', '.join(st.missing_sources[:5])})"
                row["explanation"] = _sentence(f"not checkable: {why}")
                return row, None
    try:
        m = _IMPL[spec.name](ctx, claim, st)  # type: ignore[arg-type]
    except duckdb.Error as e:
        row["explanation"] = _sentence(
            f"could not be evaluated: {type(e).__name__}: {str(e).splitlines()[0]}"
        )
        return row, None
    row["evidence_count"] = m.evidence_count
    if m.unavailable:
        row["explanation"] = _sentence(f"not checkable: {m.unavailable}")
        return row, m
    row["measured"] = m.display or _display(m.value, spec)
    row["measured_value"] = float(m.value) if isinstance(m.value, int | float) else None

    if claim.type in UNJUDGED_TYPES:
        reason = claim.reason or ""
        if claim.type == "known_gap" and st is not None:
            status = (
                f"still a gap here: no {st.noun} collected"
                if not st.scope_docs
                else f"closed here: {m.found}"
            )
            row["explanation"] = _sentence(f"{reason}; {status}" if reason else status)
        else:
            row["explanation"] = _sentence(
                f"{reason}; measured for reference: {m.found}" if reason else m.found
            )
        return row, m

    passed, side = compare(claim, m.value)
    if not spec.needs_data:
        row["verdict"] = "supported" if passed else "inconsistent"
        label = claim.label or "the profile's figures"
        if spec.name in ("profile_value", "profile_date"):
            where = "places it within" if claim.comparator == "within" else "states"
            text = f"{label}: {m.found}; elsewhere the profile {where} {claim.expected_text()}"
        else:
            text = f"{label}: {m.found}; the profile states {claim.expected_text()}"
        if passed:
            text += " — consistent"
        elif isinstance(m.value, int | float):
            exp_v = claim.expected_number()
            diff = float(m.value) - exp_v
            pct = f" ({abs(diff) / abs(exp_v):.1%})" if exp_v else ""
            text += f" — inconsistent: off by {_num(abs(diff))}{pct}"
            if claim.tolerance:
                text += f", more than the {claim.tolerance} rounding allows"
        else:
            text += " — inconsistent"
        row["explanation"] = _sentence(text) + m.detail
        return row, m

    cov = st or ScopeStats()
    if "documents" in spec.tables:
        paren = f" ({_claims_phrase(claim)}; {_coverage_text(cov)})"
    else:
        paren = f" ({_claims_phrase(claim)})"
    base = m.found + paren
    if passed:
        verdict = "supported"
        tail = ""
    else:
        excusable = (spec.direction == "up" and side == "below") or (
            spec.direction == "down" and side == "above"
        )
        if excusable and "documents" in spec.tables and not cov.complete:
            verdict = "lower_bound"
            if m.value is None or spec.name == "quote_match":
                what = "not found yet, which is not a refutation"
            elif spec.value == "date":
                what = "an earlier use may be in what is missing, so this is not a refutation"
            else:
                what = "a lower bound, not a refutation"
            tail = f": {what} — {_missing_text(cov)}"
        else:
            verdict = "contradicted"
            tail = ""
    row["verdict"] = verdict
    row["explanation"] = _sentence(base + tail) + m.detail
    return row, m


def _evidence_rows(ctx: Context, claim: Claim, m: Measure, max_evidence: int) -> list[dict[str, Any]]:
    hits = m.hits[:max_evidence]
    meta = ctx.meta([h.doc_id for h in hits])
    out = []
    for rank, h in enumerate(hits, start=1):
        d = meta.get(h.doc_id, {"kind": None, "title": None, "url": None, "published_at": None})
        text = ctx.text(h.doc_id)
        if h.start is not None and h.end is not None:
            snip = snippet(text, h.start, h.end)
            start_s = ctx.start_seconds(h.doc_id, h.start)
        else:
            snip = snippet(text, 0, 0, width=2 * SNIPPET_WIDTH)
            start_s = None
        out.append(
            {
                "claim_id": claim.id,
                "rank": rank,
                "doc_id": h.doc_id,
                "kind": d["kind"],
                "title": d["title"],
                "url": d["url"],
                "link": evidence_link(d["kind"], d["url"], start_s),
                "published_at": d["published_at"],
                "snippet": snip,
                "matched_text": h.matched_text,
                "score": h.score,
            }
        )
    return out


def evaluate_claims(
    con: duckdb.DuckDBPyConnection | None, claims_cfg: ClaimsConfig, *, max_evidence: int = 10
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate every claim. Returns (claims rows, claim_evidence rows).

    ``con`` may be None: arithmetic and not_checkable claims still get their verdicts.
    """
    ctx = Context(con, max_evidence) if con is not None else None
    rows: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    for claim in claims_cfg.claims:
        row, m = evaluate_claim(ctx, claim)
        if claim.note:
            row["explanation"] = f"{row['explanation']} Note: {_sentence(claim.note)}".strip()
        if m is not None and ctx is not None and m.hits and max_evidence > 0:
            ev = _evidence_rows(ctx, claim, m, max_evidence)
            evidence += ev
            row["evidence_shown"] = len(ev)
            row["evidence_count"] = max(row["evidence_count"] or 0, len(ev))
        rows.append(row)
    return rows, evidence


def _arrow_rows(cols: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]]) -> Any:
    """``rows`` as an Arrow table of the columns' types, or None when a value does not fit as is
    (then DuckDB's own parameter conversion decides, as it always has)."""
    import pyarrow as pa

    types = {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    }
    arrays = {}
    for name, decl in cols:
        values = [r.get(name) for r in rows]
        kind = decl.split()[0]
        if kind == "TIMESTAMPTZ" and any(
            v is not None and (not isinstance(v, datetime) or v.tzinfo is None) for v in values
        ):
            return None  # a naive or non-datetime value: its time zone is DuckDB's to decide
        try:
            arrays[name] = pa.array(values, type=types[kind], from_pandas=False)
        except (KeyError, pa.ArrowException, TypeError, ValueError, OverflowError):
            return None
    return pa.table(arrays)


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cols: Sequence[tuple[str, str]],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert ``rows`` in one Arrow scan; ``executemany`` converts every value on its own, which
    costs about a second for a few hundred claims."""
    names = [n for n, _ in cols]
    arrow = _arrow_rows(cols, rows)
    if arrow is None:
        con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({_ph(len(names))})",
            [[r.get(n) for n in names] for r in rows],
        )
        return
    view = f"_{table}_incoming"
    con.register(view, arrow)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {view}")
    finally:
        con.unregister(view)


def replace_claim_tables(
    con: duckdb.DuckDBPyConnection,
    claims_rows: Sequence[dict[str, Any]],
    evidence_rows: Sequence[dict[str, Any]],
) -> None:
    """Replace ``claims`` and ``claim_evidence`` in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, cols, rows in (
            ("claims", CLAIMS_COLUMNS, claims_rows),
            ("claim_evidence", EVIDENCE_COLUMNS, evidence_rows),
        ):
            con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{n} {t}' for n, t in cols)})")
            if rows:
                _insert_rows(con, table, cols, rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def write_claim_tables(
    con: duckdb.DuckDBPyConnection, claims_cfg: ClaimsConfig, *, max_evidence: int = 10
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Evaluate the claims over ``con`` and replace its ``claims`` / ``claim_evidence`` tables."""
    rows, evidence = evaluate_claims(con, claims_cfg, max_evidence=max_evidence)
    replace_claim_tables(con, rows, evidence)
    return rows, evidence


def verdict_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(r["verdict"] for r in rows)
    return {v: counts.get(v, 0) for v in VERDICTS}
