"""From parsed files to warehouse rows: match to the catalog, deduplicate, assign ids.

Rules (documented in docs/warehouse.md):

* Matching a parsed document to a catalog source (``pipelines.core.matching``), in order:
  YouTube id; canonical URL (the source's url or a URL alias); GitHub owner/name; exact
  normalised title or title alias.
  Tweets belong to the catalog's tweet archive source. A blog post that matches no entry belongs
  to its blog's feed (a ``blog_feed`` source): a post of a file fetched for that feed, or a post
  (or a page no parser could place) whose URL lies under the feed's ``url`` (or a URL alias) —
  one document per post, no catalog entry per post needed. What matches nothing becomes an
  uncatalogued source (``sources.in_catalog = false``) and is listed in coverage.
* The same item seen in several files lands once. Identity: the catalog source (one document
  per catalogued video/post/paper/repo), else the tweet id, YouTube id, canonical URL, GitHub
  repo, or the text's hash. The version kept has the highest ``quality`` (human captions 30 >
  original Markdown/HTML 30 > Whisper ASR 20 > scrapes 15 > auto captions 10 > summaries 5),
  then the longest text, then the first path in sort order (so re-runs are identical).
* One post is one row: a tweet copy without a status id (a day file, thread Markdown) merges into
  the id'd tweet it copies (``pipelines.core.tweet_merge``: same text after dropping URLs,
  handles, truncation and punctuation, within 45 days); the id'd copy gives the id, the timestamp
  and the link. Copies that match nothing stay, with a synthetic id ``nokey-<hash>``. Every merge
  of two copies into one row is recorded in ``merges`` (which files, which rule).
* Retweets are kept and flagged; ``documents.is_own`` is false for them and for documents whose
  author is known and is not the thinker (``pipelines.core.authorship``), and analysis counts only
  the thinker's own words by default. A tweet with no text (media only) still lands in ``tweets``.
* ``documents.date_basis`` says what the date dates: ``published`` (the text's own date),
  ``catalog`` (the catalog's date of the item), ``file_name`` (a day file's name: an unmerged
  copy), ``repo_created`` (a repository's creation: not the date of its README's text).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.core.authorship import ThinkerNames, document_authors
from pipelines.core.config import Catalog, Source
from pipelines.core.ingest import ParsedFile, Snapshot
from pipelines.core.matching import CatalogIndex, canonical_url, identity_key
from pipelines.core.parsecache import LightResult, lighten
from pipelines.core.records import DOC_KINDS, ParsedDocument, ParseResult
from pipelines.core.textutil import word_count
from pipelines.core.transcript_facts import speaker_turns, timing_facts
from pipelines.core.tweet_merge import Keyed, TwinIndex, merge_key

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")




@dataclass
class Candidate:
    """One version of an item. Non-tweet documents are kept without their text and segments (they
    are read again from their file for the version that wins): memory stays small at any scale."""

    doc: ParsedDocument
    snapshot: Snapshot
    key: tuple[str, str]
    source: Source | None
    order: int
    text_len: int = 0
    locator: int | None = None  # index in its file's documents, when the text was dropped
    merge_rule: str | None = None  # how it joined its group, when not by its own identity
    merge_days: int | None = None  # days between this copy's date and the kept one's
    feed: Source | None = None  # the blog feed an uncatalogued post belongs to

    def rank(self) -> tuple[int, int, int]:
        return (self.doc.quality, self.text_len, -self.order)


@dataclass
class Tables:
    """Warehouse rows as plain dicts, one list per table. From ``assemble_stream`` the documents and
    segments lists are empty: those rows went to its ``emit`` callback."""

    sources: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    parse_issues: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    tweets: list[dict[str, Any]]
    merges: list[dict[str, Any]] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)
    speaker_turns: list[dict[str, Any]] = field(default_factory=list)


Loader = Callable[[Snapshot], "ParseResult | None"]
LightLoader = Callable[[Snapshot], "LightResult | None"]  # for the first pass: texts dropped (parsecache)
Emit = Callable[[str, dict[str, Any]], None]


def _safe_part(s: str, limit: int = 60) -> str:
    return _UNSAFE.sub("-", s).strip("-")[:limit] or "x"


def _short_hash(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()[:12]


def _merge_metadata(meta: dict[str, dict[str, Any]], result: ParseResult) -> None:
    """Facts of metadata-only files, first file (in path order) wins per fact."""
    for k, facts in result.metadata.items():
        if k.startswith("url:"):
            k = "url:" + canonical_url(k[4:])
        for fk, fv in facts.items():
            meta[k].setdefault(fk, fv)


def _segment_rows(doc_id: str, doc: ParsedDocument) -> list[dict[str, Any]]:
    rows = []
    pos = 0
    for seg in doc.segments:
        text = seg.text.strip()
        start = doc.text.find(text, pos) if text else -1
        if start >= 0:
            end = start + len(text)
            pos = end
        rows.append(
            {
                "doc_id": doc_id,
                "seq": seg.seq,
                "start_s": seg.start_s,
                "end_s": seg.end_s,
                "start_char": start if start >= 0 else None,
                "end_char": end if start >= 0 else None,
                "text": seg.text,
            }
        )
    return rows


def _tweet_helpers() -> tuple[Any, Any]:
    try:
        from pipelines.core.parsers.tweets import join_note_tweets, match_key
    except ImportError:  # pragma: no cover - the tweets parser module always ships both
        return (lambda docs: docs), (lambda text: " ".join(text.lower().split())[:120])
    return join_note_tweets, match_key


def assemble(catalog: Catalog, parsed: list[ParsedFile]) -> Tables:
    """Every table's rows in memory (small corpora, tests). The pipeline streams: ``assemble_stream``."""
    results = {id(pf.snapshot): pf.result for pf in parsed}
    documents: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []

    def emit(table: str, row: dict[str, Any]) -> None:
        (documents if table == "documents" else segments).append(row)

    tables = assemble_stream(catalog, [pf.snapshot for pf in parsed], lambda s: results.get(id(s)), emit)
    documents.sort(key=lambda r: str(r["doc_id"]))
    segments.sort(key=lambda r: (r["doc_id"], r["seq"]))
    return dataclasses.replace(tables, documents=documents, segments=segments)


_RULE_OF_KEY = {
    "tweet": "same status id",
    "youtube": "same YouTube id",
    "github": "same GitHub repo",
    "url": "same canonical URL",
    "ext": "same external id",
    "sha": "same text",
}


@dataclass(frozen=True)
class Reuse:
    """Rows the caller already holds, so a document need not be read from its file and built again.

    ``snapshot_key(snap)``: what the snapshot's parse result is (content hash, parser and its
    version, and the caller's code digest), or None to build its documents afresh. ``holds(doc_id,
    key)``: whether the caller holds the document and segment rows that were built under this
    emission key (``emission_key``). A held document is emitted as ``("reused", {"doc_id", "key"})``
    and the caller copies its rows (and speaker turns); a built one is followed by ``("keys", ...)``."""

    snapshot_key: Callable[[Snapshot], str | None]
    holds: Callable[[str, str], bool]


def emission_key(row: dict[str, Any], snapshot_key: str, locator: int, facts: dict[str, Any], names: ThinkerNames) -> str:
    """Everything ``_emit_document`` builds a document's rows from: the row so far, the parse result
    and the document's place in it, the metadata facts and the thinker's names."""
    blob = json.dumps([row, snapshot_key, locator, facts, sorted(names.names)], sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


def assemble_stream(catalog: Catalog, snapshots: Sequence[Snapshot], load: Loader, emit: Emit,
                    reuse: Reuse | None = None, load_light: LightLoader | None = None) -> Tables:
    """Match, deduplicate and build the rows, holding only small keys of non-tweet documents.

    Four phases: (1) ``_collect`` reads each parse result once (``load_light``'s copy without the
    texts of non-tweets, when given), keeping tweets whole and, of every other document, its
    identity, rank and place in the file; (2) ``_group`` puts the copies of one
    item together (id-less tweets join the id'd tweet they copy); (3) ``_build_rows`` picks each
    group's winner and builds its rows, then reads again only the files that hold winners and
    ``emit``s their document and segment rows (the caller writes them in batches, in any order);
    (4) the snapshot, source and listing rows. The other tables are returned. With ``reuse``, a
    document whose rows the caller holds under the same emission key is not built again (its file
    is not read a second time when it holds no other document to build)."""
    idx = CatalogIndex.build(catalog)
    names = ThinkerNames.of(catalog.thinker)
    snaps = sorted(snapshots, key=lambda s: (s.path or "~", s.origin))
    col = _collect(snaps, load_light or (lambda snap: _lighten(load(snap))), idx)
    groups = _group(col.cands)
    built = _build_rows(groups, col, names, snaps, load, emit, reuse)
    snapshot_rows = _snapshot_rows(snaps, built, col.n_issues)
    sources = _source_rows(catalog, built.auto_sources)
    listings = _listing_rows(col.listed, idx, built.doc_of_source)
    built.tweets.sort(key=lambda r: str(r["tweet_id"]))
    built.merges.sort(key=lambda r: (r["doc_id"], r["merged_path"] or "", r["merged_snapshot_id"]))
    return Tables(sources, snapshot_rows, col.issues, [], [], built.tweets, built.merges, listings, built.turns)


@dataclass
class _Collected:
    cands: list[Candidate]
    meta: dict[str, dict[str, Any]]
    issues: list[dict[str, Any]]
    n_issues: dict[str, int]
    listed: list[tuple[Snapshot, int, dict[str, Any]]]


def _lighten(result: ParseResult | None) -> LightResult | None:
    return None if result is None else lighten(result)


def _collect(snaps: Sequence[Snapshot], load: LightLoader, idx: CatalogIndex) -> _Collected:
    """Phase 1: candidates (non-tweets without their text; tweets whole, notes joined across files),
    metadata facts, parse issues and listed items."""
    join_note_tweets, _ = _tweet_helpers()
    meta: dict[str, dict[str, Any]] = defaultdict(dict)
    issues: list[dict[str, Any]] = []
    n_issues: dict[str, int] = {}
    listed: list[tuple[Snapshot, int, dict[str, Any]]] = []
    cands: list[Candidate] = []
    tweets_in: list[ParsedDocument] = []
    owners: dict[int, Snapshot] = {}
    order = 0
    for snap in snaps:
        light = load(snap)
        if light is None:
            continue
        result = light.result
        _merge_metadata(meta, result)
        n_issues[snap.snapshot_id] = len(result.issues)
        for issue in result.issues:
            issues.append(
                {"snapshot_id": snap.snapshot_id, "path": snap.path, "position": issue.position,
                 "severity": issue.severity, "message": issue.message}
            )
        for pos, item in enumerate(getattr(result, "listings", None) or [], 1):
            listed.append((snap, pos, item))
        for i, d in enumerate(result.documents):
            if d.kind == "tweet":
                tweets_in.append(d)
                owners[id(d)] = snap
                continue
            order += 1
            facts = light.facts[i]
            if facts is None or facts.blank:
                continue
            key = identity_key(d, facts.stripped_sha256)
            source = idx.match(d, key)
            if source is None and snap.source_id:
                # a fetched file knows which catalog source it was fetched for (not feeds: many posts)
                fetched_for = idx.by_id.get(snap.source_id)
                if fetched_for is not None and fetched_for.kind not in ("blog_feed", "tweet_archive"):
                    source = fetched_for
            feed = idx.feed_of(d, snap.source_id) if source is None else None
            cands.append(Candidate(d, snap, key, source, order, text_len=facts.length, locator=i, feed=feed))
        del result, light
    for d in join_note_tweets(tweets_in):
        order += 1
        if not d.text.strip() and not (d.tweet and d.tweet.tweet_id):
            continue  # a tweet without text lands only when it has an id (a media-only post)
        key = identity_key(d)
        owner = owners.get(id(d)) or owners[id(tweets_in[0])]
        cands.append(Candidate(d, owner, key, idx.match(d, key), order, text_len=len(d.text)))
    return _Collected(cands, meta, issues, n_issues, listed)


def _group(cands: list[Candidate]) -> dict[tuple[str, str], list[Candidate]]:
    """Phase 2: the copies of each item. An id-less tweet joins the id'd tweet it copies
    (``pipelines.core.tweet_merge``); catalogued non-tweets group by their catalog source."""
    twins = TwinIndex(
        Keyed(c.key[1], c.doc.published_at, merge_key(c.doc.text)) for c in cands if c.key[0] == "tweet"
    )
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in cands:
        if c.doc.kind == "tweet" and c.key[0] != "tweet":
            found = twins.find_twin(c.doc.text, c.doc.published_at)
            if found is not None:
                twin, rule, days = found
                c.merge_rule, c.merge_days = rule, days
                groups[("tweet", twin.tweet_id)].append(c)
                continue
            day = c.doc.published_at.date().isoformat() if c.doc.published_at else ""
            c.key = ("tweet", "nokey-" + _short_hash(day + merge_key(c.doc.text)))
        gkey = ("source", c.source.id) if c.source and c.doc.kind != "tweet" else c.key
        groups[gkey].append(c)
    return groups


@dataclass
class _Built:
    tweets: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    auto_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    doc_source: dict[str, str] = field(default_factory=dict)
    doc_of_source: dict[str, str] = field(default_factory=dict)
    winners: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    losers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _date_basis(kind: str, doc: ParsedDocument, published: datetime | None, from_catalog: bool) -> str | None:
    if published is None:
        return None
    if kind == "repo":
        return "repo_created"  # a README's text is not dated by its repository's creation
    if from_catalog:
        return "catalog"
    if kind == "tweet" and doc.tweet is not None and not doc.tweet.tweet_id:
        return "file_name"  # an id-less copy dated only by its file (day files can be a month late)
    return str(doc.meta.get("date_basis") or "published")


def _own(doc: ParsedDocument, names: ThinkerNames) -> tuple[bool, str | None]:
    """(is_own, author): not the thinker's when it is a retweet or its known author is someone else."""
    tw = doc.tweet
    authors = document_authors(tw.author if tw else None, doc.meta)
    if tw is not None and tw.is_retweet:
        return False, authors[0] if authors else None
    owned = names.owns(authors) if names.names else None
    return (owned is not False), (", ".join(authors)[:200] if authors else None)


def _build_rows(
    groups: dict[tuple[str, str], list[Candidate]],
    col: _Collected,
    names: ThinkerNames,
    snaps: Sequence[Snapshot],
    load: Loader,
    emit: Emit,
    reuse: Reuse | None = None,
) -> _Built:
    """Phase 3: each group's winner as rows; texts of non-tweet winners are read again from their files."""
    out = _Built()
    meta = col.meta
    pending: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)  # snapshot_id -> locator -> row
    facts_of: dict[str, dict[str, Any]] = {}
    for gkey, members in sorted(groups.items()):
        best = max(members, key=Candidate.rank)
        d = best.doc
        src = best.source
        feed = None if src else next((m.feed for m in [best, *members] if m.feed is not None), None)
        owner = src or feed
        kind = owner.doc_kind if owner else (d.kind if d.kind in DOC_KINDS else "other")
        # The id'd copy of a tweet gives the row its id, timestamp and link; the best copy its text.
        anchor = best
        if kind == "tweet" and gkey[0] == "tweet":
            ided = [m for m in members if m.key == gkey]
            anchor = max(ided, key=Candidate.rank) if ided else best
        ad = anchor.doc
        if kind == "tweet":
            doc_id = f"tweet-{_safe_part(gkey[1])}"
        elif src:
            doc_id = src.id
        else:
            doc_id = f"{kind}-{_safe_part(best.key[1].rsplit('/', 1)[-1], 40)}-{_short_hash(repr(best.key))[:6]}"
        facts: dict[str, Any] = {}
        if best.key[0] == "youtube":
            facts = meta.get(f"youtube:{best.key[1]}", {})
        elif best.key[0] == "url":
            facts = meta.get(f"url:{best.key[1]}", {})
        elif best.key[0] == "github":
            facts = meta.get(f"github:{best.key[1]}", {})
        # A catalogued source's curated title wins over what a scrape or page header says.
        title = (src.title if src and src.kind != "tweet_archive" else None) or d.title or facts.get("title")
        published = ad.published_at or d.published_at or facts.get("published_at")
        from_catalog = False
        if published is None and src and kind != "tweet" and src.date_start and src.date and len(src.date) >= 7:
            # the catalog's date (its first day when only a month is known; sources.date_precision says)
            published = datetime(src.date_start.year, src.date_start.month, src.date_start.day, tzinfo=UTC)
            from_catalog = True
        if isinstance(published, str):
            published = datetime.fromisoformat(published)
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        url = ad.url or d.url
        if url is None and src is not None and kind != "tweet":
            url = src.url  # a tweet without a status URL gets none: the account's page opens no passage
        if src is None and feed is not None:
            source_id = feed.id  # a post of a catalogued blog: its feed's document
        elif src is None:
            source_id = f"auto-{doc_id}"[:120] if kind != "tweet" else "auto-tweets"
            out.auto_sources.setdefault(
                source_id,
                {
                    "source_id": source_id,
                    "kind": {"tweet": "tweet_archive"}.get(kind, kind),
                    "title": "Uncatalogued tweets" if kind == "tweet" else title,
                    "url": None if kind == "tweet" else url,
                    "published_at": None if kind == "tweet" else (published.date() if published else None),
                },
            )
        else:
            source_id = src.id
            out.doc_of_source.setdefault(src.id, doc_id)
        is_own, author = _own(ad if ad.tweet is not None else d, names)
        row: dict[str, Any] = {
            "doc_id": doc_id,
            "source_id": source_id,
            "kind": kind,
            "title": title,
            "url": url,
            "published_at": published,
            "date_basis": _date_basis(kind, ad, published, from_catalog),
            "author": author,
            "snapshot_id": best.snapshot.snapshot_id,
            "format": best.snapshot.format,
            "quality": d.quality,
            "is_own": is_own,
            "speakers_separated": bool(d.meta.get("speakers_separated", kind not in ("podcast",))),
            "versions": len(members),
        }
        out.doc_source.setdefault(doc_id, source_id)
        facts_of[doc_id] = facts
        has_text = best.locator is not None or bool(d.text.strip())  # a light copy's text is in its file
        if not has_text:
            pass  # a media-only tweet: a `tweets` row, no document (it has no words)
        elif best.locator is None:
            out.turns += _emit_document(emit, row, d, facts, names)
        else:
            pending[best.snapshot.snapshot_id][best.locator] = row
        if kind == "tweet":
            tw = ad.tweet
            out.tweets.append(
                {
                    "tweet_id": gkey[1] if gkey[0] == "tweet" else best.key[1],
                    "doc_id": doc_id if has_text else None,
                    "created_at": published,
                    "text": d.text,
                    "is_retweet": bool(tw and tw.is_retweet),
                    "is_reply": bool(tw and tw.is_reply),
                    "is_quote": bool(tw and tw.is_quote),
                    "reply_to_id": tw.reply_to_id if tw else None,
                    "urls": list(tw.urls) if tw else [],
                    "author": tw.author if tw else None,
                    "retweet_count": tw.retweet_count if tw else None,
                    "like_count": tw.like_count if tw else None,
                    "reply_count": tw.reply_count if tw else None,
                    "has_id": not str(gkey[1]).startswith("nokey-"),
                }
            )
        out.winners[best.snapshot.snapshot_id].append(doc_id)
        for m in members:
            if m is best:
                continue
            out.losers[m.snapshot.snapshot_id].append(f"{doc_id} (kept {best.snapshot.path})")
            # how the two copies were matched: the id-less copy's rule, whichever of them was kept
            joined = m if m.merge_rule else best if best.merge_rule else None
            rule = joined.merge_rule if joined else (
                "same catalog source" if gkey[0] == "source" else _RULE_OF_KEY.get(m.key[0], "same item")
            )
            days = joined.merge_days if joined else None
            if days is None and m.doc.published_at and published:
                days = round((m.doc.published_at - published) / timedelta(days=1))
            out.merges.append(
                {
                    "doc_id": doc_id,
                    "kept_snapshot_id": best.snapshot.snapshot_id,
                    "kept_path": best.snapshot.path,
                    "merged_snapshot_id": m.snapshot.snapshot_id,
                    "merged_path": m.snapshot.path,
                    "rule": rule,
                    "days_apart": days,
                }
            )

    for snap in snaps:
        rows = pending.pop(snap.snapshot_id, None)
        if not rows:
            continue
        skey = reuse.snapshot_key(snap) if reuse is not None else None
        todo: list[tuple[int, dict[str, Any], str | None]] = []
        for locator, row in rows.items():
            key = emission_key(row, skey, locator, facts_of.get(row["doc_id"], {}), names) if skey is not None else None
            if key is not None and reuse is not None and reuse.holds(row["doc_id"], key):
                emit("reused", {"doc_id": row["doc_id"], "key": key})
            else:
                todo.append((locator, row, key))
        if not todo:
            continue
        result = load(snap)
        if result is None:
            raise RuntimeError(f"{snap.path}: its parse result disappeared from the cache during assembly; run again")
        for locator, row, key in todo:
            out.turns += _emit_document(emit, row, result.documents[locator], facts_of.get(row["doc_id"], {}), names)
            if key is not None:
                emit("keys", {"doc_id": row["doc_id"], "key": key})
        del result
    return out


def _snapshot_rows(snaps: Sequence[Snapshot], built: _Built, n_issues: dict[str, int]) -> list[dict[str, Any]]:
    """Phase 4a: one row per file, "duplicate" when every item it holds landed from another file."""
    rows: list[dict[str, Any]] = []
    for s in snaps:
        status: str = s.status
        error: str | None = s.error
        won = built.winners.get(s.snapshot_id, [])
        lost = built.losers.get(s.snapshot_id, [])
        if status == "accepted" and not won and lost:
            status = "duplicate"
            error = f"all {len(lost)} item(s) already landed from another file, e.g. {lost[0]}"
        snap_source: str | None = s.source_id
        if snap_source is None and won:
            snap_source = built.doc_source.get(won[0])
        rows.append(
            {
                "snapshot_id": s.snapshot_id,
                "source_id": snap_source,
                "path": s.path,
                "sha256": s.sha256,
                "bytes": s.bytes,
                "seen_at": s.seen_at,
                "origin": s.origin,
                "fetcher": s.fetcher,
                "format": s.format,
                "status": status,
                "error": error,
                "http_status": s.http_status,
                "documents_kept": len(won),
                "documents_duplicate": len(lost),
                "issues": n_issues.get(s.snapshot_id, 0),
            }
        )
    rows.sort(key=lambda r: (r["path"] or "~", r["origin"]))
    return rows


def _source_rows(catalog: Catalog, auto_sources: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Phase 4b: every catalog source, then the uncatalogued sources found in raw/."""
    sources = []
    for src in catalog.sources:
        sources.append(
            {
                "source_id": src.id,
                "kind": src.kind,
                "title": src.title,
                "url": src.url,
                "published_at": src.date_start,
                "date_precision": {4: "year", 7: "month", 10: "day"}.get(len(src.date or ""), None),
                "youtube_id": src.youtube_id,
                "id_confirmed": src.id_confirmed,
                "collection": src.collection,
                "in_catalog": True,
                "in_profile": src.in_profile,
                "known_gap": src.known_gap,
                "claimed_words": src.claimed_words,
                "claimed_items": src.claimed_items,
                "notes": src.notes,
            }
        )
    for row in sorted(auto_sources.values(), key=lambda r: r["source_id"]):
        sources.append(
            {
                **row,
                "date_precision": "day" if row["published_at"] else None,
                "youtube_id": None,
                "id_confirmed": False,
                "collection": None,
                "in_catalog": False,
                "in_profile": False,
                "known_gap": False,
                "claimed_words": None,
                "claimed_items": None,
                "notes": "found in raw/ but not in analysis/catalog.yaml",
            }
        )
    return sources


def _listing_rows(
    listed: list[tuple[Snapshot, int, dict[str, Any]]], idx: CatalogIndex, doc_of_source: dict[str, str]
) -> list[dict[str, Any]]:
    """Phase 4c: the items index pages list, matched to the catalog (YouTube id, URL, URL path,
    title) and to the document that holds their text, when one landed."""
    rows = []
    for snap, pos, item in listed:
        src = idx.match_listed(item)
        when = item.get("published_at")
        if isinstance(when, str):
            try:
                when = datetime.fromisoformat(when)
            except ValueError:
                when = None
        if isinstance(when, datetime) and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        duration = item.get("duration_s")
        rows.append(
            {
                "snapshot_id": snap.snapshot_id,
                "path": snap.path,
                "position": pos,
                "url": item.get("url"),
                "youtube_id": item.get("youtube_id"),
                "title": item.get("title"),
                "published_at": when if isinstance(when, datetime) else None,
                "duration_s": float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else None,
                "source_id": src.id if src else None,
                "doc_id": doc_of_source.get(src.id) if src else None,
            }
        )
    rows.sort(key=lambda r: (r["path"] or "", r["position"]))
    return rows


def _emit_document(
    emit: Emit, row: dict[str, Any], doc: ParsedDocument, facts: dict[str, Any], names: ThinkerNames
) -> list[dict[str, Any]]:
    """Complete a document row with what its text gives, emit it with its segments, and return its
    speaker turns (a recording whose chapters name its speakers)."""
    row["text"] = doc.text
    row["word_count"] = word_count(doc.text)
    row["content_sha256"] = hashlib.sha256(doc.text.encode()).hexdigest()
    row.update(timing_facts(doc, facts, row["word_count"]))
    turns = speaker_turns(row["doc_id"], doc, facts.get("chapters"), names.is_thinker, row["timed"])
    if turns:
        row["speakers_separated"] = True
    emit("documents", row)
    for seg in _segment_rows(row["doc_id"], doc):
        emit("segments", seg)
    return turns
