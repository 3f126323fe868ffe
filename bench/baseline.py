"""The baseline: the one plain script a user would otherwise write (no Dagster, no spaCy).

    uv run python bench/baseline.py --project bench/out/x1

Reads the same files the pipeline reads (X archive ``tweets*.js``, youtube-transcript JSON,
WebVTT, Jekyll Markdown, the RSS feed, plain-text papers) from ``raw/inbox/``, drops retweets
and second copies (a video seen as JSON and VTT, a post seen in the feed and as Markdown),
counts the lexicon's phrases and citations with regular expressions (whole words, any case,
hyphen or space between words; weak aliases only with a context word in the sentence; matches
inside an exclusion phrase dropped), loads documents and counts into DuckDB and aggregates
them per kind with SQL. Prints (or writes with --json) the totals in the shape of the
generator's expected.json, so the harness can compare them.

It is deliberately plain: one process, stdlib + duckdb + pyarrow + PyYAML, documents streamed
to DuckDB in batches.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
import xml.etree.ElementTree as ET  # noqa: S405 - our own generated feed
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*")
TAG_RE = re.compile(r"<[^>]+>")
LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
VIDEO_ID = re.compile(r"(?:^|_)([A-Za-z0-9_-]{11})$")


def form_regex(forms: list[str], case_sensitive: bool) -> re.Pattern[str]:
    """Whole-word alternation of the forms (longest first), any run of spaces/hyphens between words.

    Case-insensitive forms are lower-cased: they are searched in the lower-cased text."""
    parts = []
    for f in sorted(set(forms), key=len, reverse=True):
        words = re.split(r"[\s\-]+", f.strip() if case_sensitive else f.strip().lower())
        parts.append(r"[\s\-]+".join(re.escape(w) for w in words))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def anchors(forms: list[str], case_sensitive: bool) -> list[str]:
    """A cheap prefilter: the longest word of each form; the regex runs only if one is in the text."""
    out = []
    for f in forms:
        w = max(re.split(r"[\s\-]+", f.strip()), key=len)
        out.append(w if case_sensitive else w.lower())
    return sorted(set(out))


# --------------------------------------------------------------------------- reading


def norm_title(t: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()


def read_docs(inbox: Path) -> Iterator[tuple[str, str, bool, str]]:
    """(key, kind, own, text) per document, first copy wins."""
    seen: set[str] = set()
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    # Formats with the best text first: transcript JSON before VTT, Markdown posts before the feed.
    order = {".json": 0, ".markdown": 0, ".md": 0, ".js": 0, ".txt": 0, ".vtt": 1, ".xml": 2}
    files.sort(key=lambda p: (order.get(p.suffix, 3), str(p)))
    for path in files:
        name = path.name
        if name.endswith(".js"):
            raw = path.read_text(encoding="utf-8")
            body = raw[raw.index("=") + 1 :].strip().rstrip(";")
            for rec in json.loads(body):
                tw = rec.get("tweet", rec)
                key = "tweet:" + str(tw["id_str"])
                if key in seen:
                    continue
                seen.add(key)
                text = html.unescape(tw["full_text"])
                yield key, "tweet", not text.startswith("RT @"), text
        elif name.endswith(".youtube-transcript.json"):
            obj = json.loads(path.read_text(encoding="utf-8"))
            key = "video:" + obj["video_id"]
            if key not in seen:
                seen.add(key)
                yield key, "video", True, " ".join(s["text"].replace("\n", " ") for s in obj["snippets"])
        elif name.endswith(".vtt"):
            m = VIDEO_ID.search(path.stem)
            key = "video:" + (m.group(1) if m else path.stem)
            if key in seen:
                continue
            seen.add(key)
            lines: list[str] = []
            for block in path.read_text(encoding="utf-8").split("\n\n")[1:]:
                cue = [ln for ln in block.splitlines() if ln and "-->" not in ln]
                text = " ".join(cue).strip()
                if text and (not lines or lines[-1] != text):
                    lines.append(text)
            yield key, "video", True, " ".join(lines)
        elif path.suffix in (".markdown", ".md"):
            raw = path.read_text(encoding="utf-8")
            _, fm, body = raw.split("---", 2)
            meta = yaml.safe_load(fm) or {}
            key = "post:" + norm_title(str(meta.get("title", name)))
            if key in seen:
                continue
            seen.add(key)
            body = LINK_RE.sub(r"\1", body).replace("*", "")
            body = "\n".join(ln.lstrip("#").strip() for ln in body.splitlines())
            yield key, "blog_post", True, body.strip()
        elif path.suffix == ".xml":
            root = ET.parse(path).getroot()  # noqa: S314 - our own generated feed
            ns = {"content": "http://purl.org/rss/1.0/modules/content/"}
            for item in root.iter("item"):
                key = "post:" + norm_title(item.findtext("title") or "")
                if key in seen:
                    continue
                seen.add(key)
                content = (
                    item.findtext("content:encoded", default="", namespaces=ns)
                    or item.findtext("description")
                    or ""
                )
                text = html.unescape(TAG_RE.sub("\n\n", content))
                yield key, "blog_post", True, re.sub(r"\n{3,}", "\n\n", text).strip()
        elif path.suffix == ".txt":
            key = "paper:" + path.stem
            if key not in seen:
                seen.add(key)
                yield key, "paper", True, path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- counting


class Counter:
    def __init__(self, lexicon: dict) -> None:
        self.phrases = [
            (
                p["id"],
                bool(p.get("case_sensitive")),
                anchors(p["forms"], bool(p.get("case_sensitive"))),
                form_regex(p["forms"], bool(p.get("case_sensitive"))),
            )
            for p in lexicon.get("phrases", [])
        ]
        self.entities = []
        for e in lexicon.get("entities", []):
            cs = bool(e.get("case_sensitive"))
            strong = list(e.get("aliases", [])) + list(e.get("handles", []))
            weak = list(e.get("weak_aliases", []))
            all_forms = strong + weak
            self.entities.append(
                (
                    e["id"],
                    cs,
                    anchors(all_forms, cs),
                    form_regex(all_forms, cs) if all_forms else None,
                    {a.lower() for a in weak},
                    form_regex(e["require_context"], False) if e.get("require_context") else None,
                    form_regex(e["exclude"], cs) if e.get("exclude") else None,
                )
            )

    def count(self, text: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        low = text.lower()
        phrases = []
        for pid, cs, anch, rx in self.phrases:
            t = text if cs else low
            if any(a in t for a in anch) and (n := sum(1 for _ in rx.finditer(t))):
                phrases.append((pid, n))
        mentions: list[tuple[str, int]] = []
        sentences: list[tuple[int, int]] | None = None
        for eid, cs, anch, rx, weak, ctx, excl in self.entities:
            t = text if cs else low
            if rx is None or not any(a in t for a in anch):
                continue
            hits = list(rx.finditer(t))
            if not hits:
                continue
            if excl is not None:
                spans = [(m.start(), m.end()) for m in excl.finditer(t)]
                hits = [h for h in hits if not any(s <= h.start() and h.end() <= e for s, e in spans)]
            n = 0
            for h in hits:
                if " ".join(h.group().lower().split()) in weak:
                    if sentences is None:
                        sentences, pos = [], 0
                        for m in SENT_SPLIT.finditer(text):
                            sentences.append((pos, m.start()))
                            pos = m.end()
                        sentences.append((pos, len(text)))
                    s, e = next(((a, b) for a, b in sentences if a <= h.start() <= b), (0, len(text)))
                    if ctx is None or not ctx.search(low, s, e):
                        continue
                n += 1
            if n:
                mentions.append((eid, n))
        return phrases, mentions


def run(project: Path, db: Path) -> dict:
    lexicon = yaml.safe_load((project / "analysis" / "lexicon.yaml").read_text(encoding="utf-8"))
    counter = Counter(lexicon)
    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE documents (doc_key VARCHAR, kind VARCHAR, own BOOLEAN, words INTEGER, text VARCHAR)"
    )
    con.execute("CREATE TABLE phrase_counts (doc_key VARCHAR, phrase_id VARCHAR, hits INTEGER)")
    con.execute("CREATE TABLE mention_counts (doc_key VARCHAR, entity_id VARCHAR, mentions INTEGER)")
    docs: dict[str, list] = {"doc_key": [], "kind": [], "own": [], "words": [], "text": []}
    ph: dict[str, list] = {"doc_key": [], "phrase_id": [], "hits": []}
    me: dict[str, list] = {"doc_key": [], "entity_id": [], "mentions": []}

    def flush() -> None:
        for table, cols in (("documents", docs), ("phrase_counts", ph), ("mention_counts", me)):
            if cols["doc_key"]:
                batch = pa.table(cols)  # noqa: F841 - read by DuckDB's replacement scan
                con.execute(f"INSERT INTO {table} SELECT * FROM batch")  # noqa: S608
                for v in cols.values():
                    v.clear()

    n = 0
    for key, kind, own, text in read_docs(project / "raw" / "inbox"):
        docs["doc_key"].append(key)
        docs["kind"].append(kind)
        docs["own"].append(own)
        docs["words"].append(len(WORD_RE.findall(text)))
        docs["text"].append(text)
        phrases, mentions = counter.count(text)
        for pid, c in phrases:
            ph["doc_key"].append(key)
            ph["phrase_id"].append(pid)
            ph["hits"].append(c)
        for eid, c in mentions:
            me["doc_key"].append(key)
            me["entity_id"].append(eid)
            me["mentions"].append(c)
        n += 1
        if n % 5000 == 0:
            flush()
    flush()
    out: dict = {"documents": {}, "own_documents": {}, "words": 0, "phrases": {}, "entities": {}}
    for kind, total, own, words in con.execute(
        "SELECT kind, count(*), count(*) FILTER (WHERE own), sum(words) FILTER (WHERE own) FROM documents GROUP BY 1 ORDER BY 1"
    ).fetchall():
        out["documents"][kind] = total
        out["own_documents"][kind] = own
        out["words"] += int(words or 0)
    for table, id_col, measure in (
        ("phrase_counts", "phrase_id", "hits"),
        ("mention_counts", "entity_id", "mentions"),
    ):
        rows = con.execute(
            f"""SELECT c.{id_col}, coalesce(d.kind, '*') AS kind, sum(c.{measure}) AS n, count(DISTINCT c.doc_key) AS docs
                FROM {table} c JOIN documents d USING (doc_key) WHERE d.own
                GROUP BY GROUPING SETS ((c.{id_col}, d.kind), (c.{id_col}))"""  # noqa: S608
        ).fetchall()
        section = out["phrases" if table == "phrase_counts" else "entities"]
        for item, kind, total, ndocs in rows:
            section.setdefault(item, {})[kind] = {measure: int(total), "documents": int(ndocs)}
    con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, required=True)
    ap.add_argument("--db", type=Path, help="DuckDB file to write (default: PROJECT/baseline.duckdb)")
    ap.add_argument("--json", type=Path, help="write the counts here (default: print them)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args.project, args.db or args.project / "baseline.duckdb")
    out["seconds"] = round(time.perf_counter() - t0, 3)
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    else:
        print(text)
    print(
        f"baseline: {sum(out['documents'].values()):,} documents, {out['words']:,} own words in {out['seconds']}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
