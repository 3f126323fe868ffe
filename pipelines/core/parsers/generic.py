"""Last-resort formats: PDF papers (pypdf), repository READMEs, plain Markdown and plain text.

These come after every specific parser; a file they read lands as a document of kind ``paper``,
``repo`` or (when nothing says more) ``other``, and the catalog match may refine the kind.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from pipelines.core.parsers.common import (
    basename,
    loads_json,
    markdown_to_text,
    parse_date,
    read_feed,
    record_failure,
    stem,
    suffix,
)
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParsedDocument, ParseError, ParseIssue, ParseResult, Segment
from pipelines.core.textutil import clean_text, decode_bytes

_README = re.compile(r"^(?:(?P<owner>[A-Za-z0-9-]{1,39})_(?P<repo>[A-Za-z0-9_.-]{1,100})\.)?readme(?:\.(?:md|markdown|rst|txt))?$", re.I)
_ARXIV = re.compile(r"(?:arxiv[:/ ]|abs/|pdf/)(\d{4}\.\d{4,5})(?:v\d+)?", re.I)
MAX_PDF_PAGES = 500


def _paragraphs(text: str) -> list[Segment]:
    return [Segment(seq=i, text=p.strip()) for i, p in enumerate(re.split(r"\n\s*\n", text)) if p.strip()]


def _parse_pdf(data: bytes, name: str) -> ParseResult:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError("PDF is encrypted: no text can be extracted")
        pages = reader.pages
        n = len(pages)
    except PdfReadError as e:
        raise ParseError(f"unreadable PDF: {e}") from e
    except ParseError:
        raise
    except RecursionError as e:
        raise ParseError("unreadable PDF: its object structure is nested too deeply") from e
    except Exception as e:  # pypdf raises many types on a damaged file (KeyError, ValueError, struct.error, ...)
        raise ParseError(f"unreadable PDF: {type(e).__name__}: {e}") from e
    issues: list[ParseIssue] = []
    texts: list[str] = []
    for i in range(1, n + 1):
        if i > MAX_PDF_PAGES:
            issues.append(ParseIssue(f"page {i}", f"only the first {MAX_PDF_PAGES} pages are read", "warning"))
            break
        try:
            texts.append(clean_text(pages[i - 1].extract_text() or ""))
        except Exception as e:  # pypdf raises many types on broken content streams
            issues.append(ParseIssue(f"page {i}", f"text extraction failed: {type(e).__name__}: {str(e)[:200]}"))
    text = "\n\n".join(t for t in texts if t)
    if not text.strip():
        raise ParseError(f"PDF has {n} page(s) but no extractable text (scanned images?)")
    try:
        info: Any = reader.metadata or {}
        title = str(info.get("/Title") or "").strip() or None
        created = info.get("/CreationDate")
        published = parse_date(str(created)[2:10]) if created else None
    except Exception as e:  # a damaged document information dictionary costs the title and date
        issues.append(ParseIssue("document information", f"unreadable: {type(e).__name__}: {str(e)[:200]}; no title or date", "warning"))
        title, published = None, None
    arxiv = _ARXIV.search(name) or re.match(r"^(\d{4}\.\d{4,5})(?:v\d+)?\.pdf$", basename(name)) or _ARXIV.search(text[:5000])
    doc = ParsedDocument(
        kind="paper",
        text=text,
        title=title,
        url=f"https://arxiv.org/abs/{arxiv.group(1)}" if arxiv else None,
        published_at=published,
        external_id=f"arxiv:{arxiv.group(1)}" if arxiv else None,
        segments=[Segment(seq=i, text=t) for i, t in enumerate(texts) if t],
        quality=30,
        meta={"pages": n},
    )
    return ParseResult(format="pdf", documents=[doc], issues=issues)


def _sniff_readme(name: str, head: bytes) -> bool:
    return bool(_README.match(basename(name))) or bool(re.search(r"(?:^|/)[^/]+/[^/]+/readme\.(md|markdown|rst|txt)$", name, re.I))


def _parse_readme(data: bytes, name: str) -> ParseResult:
    base = basename(name)
    m = _README.match(base)
    owner = repo = None
    if m and m.group("owner"):
        owner, repo = m.group("owner"), m.group("repo")
    else:
        parts = name.split("/")
        if len(parts) >= 3:
            owner, repo = parts[-3], parts[-2]
    issues: list[ParseIssue] = []
    text = markdown_to_text(decode_bytes(data), issues)
    if not text:
        raise ParseError("README has no text")
    h1 = re.search(r"^#\s+(.+)$", decode_bytes(data), re.M)
    doc = ParsedDocument(
        kind="repo",
        text=text,
        title=(h1.group(1).strip() if h1 else None) or (f"{owner}/{repo}" if repo else stem(base)),
        url=f"https://github.com/{owner}/{repo}" if owner and repo else None,
        external_id=f"github:{owner}/{repo}" if owner and repo else None,
        segments=_paragraphs(text),
        quality=30,
    )
    return ParseResult(format="repo_readme", documents=[doc], issues=issues)


def _sniff_text(name: str, head: bytes) -> bool:
    return suffix(name) in {".md", ".markdown", ".txt", ".text", ".rst", ""}


def _parse_text(data: bytes, name: str) -> ParseResult:
    raw = decode_bytes(data)
    is_md = suffix(name) in {".md", ".markdown"}
    issues: list[ParseIssue] = []
    text = markdown_to_text(raw, issues) if is_md else clean_text(raw)
    if not text.strip():
        raise ParseError("file has only whitespace")
    h1 = re.search(r"^#\s+(.+)$", raw, re.M) if is_md else None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", basename(name))
    published = None
    if m:
        try:
            published = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        except ValueError:
            published = None
    doc = ParsedDocument(
        kind=None,
        text=text,
        title=h1.group(1).strip() if h1 else stem(basename(name)).replace("_", " ").replace("-", " "),
        published_at=published,
        segments=_paragraphs(text),
        quality=10,
    )
    return ParseResult(format="markdown" if is_md else "plain_text", documents=[doc], issues=issues)


def _sniff_github_meta(name: str, head: bytes) -> bool:
    return suffix(name) == ".json" and b'"full_name"' in head and (b'"stargazers_count"' in head or b'"html_url"' in head)


def _parse_github_meta(data: bytes, name: str) -> ParseResult:
    import json

    try:
        obj = loads_json(decode_bytes(data))
    except json.JSONDecodeError as e:
        raise ParseError(f"not valid JSON: {e.msg} at line {e.lineno}") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("full_name"), str):
        raise ParseError("GitHub repository JSON without full_name")
    facts = {
        "description": obj.get("description"),
        "stars": obj.get("stargazers_count"),
        "created_at": parse_date(obj.get("created_at")),
        "pushed_at": parse_date(obj.get("pushed_at")),
        "published_at": parse_date(obj.get("created_at")),
        "url": obj.get("html_url"),
    }
    return ParseResult(format="github_repo_json", metadata={f"github:{obj['full_name'].lower()}": {k: v for k, v in facts.items() if v is not None}})


def _sniff_arxiv(name: str, head: bytes) -> bool:
    return b"<feed" in head and (b"arxiv.org/api" in head or b'xmlns:arxiv="http://arxiv.org/schemas/atom"' in head)


def _parse_arxiv(data: bytes, name: str) -> ParseResult:
    """arXiv API Atom: title, date and abstract of each paper (a summary; the PDF's text wins)."""
    if re.search(rb"<!ENTITY", data[:65536], re.I):
        raise ParseError("arXiv response declares XML entities: refused")
    parsed = read_feed(data)
    docs = []
    issues = []
    for i, e in enumerate(parsed.entries, 1):
        m = re.search(r"abs/(\d{4}\.\d{4,5}|[a-z-]+/\d{7})", e.get("id", ""))
        if not m or not e.get("summary"):
            issues.append(ParseIssue(f"entry {i}", "arXiv entry without an id or abstract"))
            continue
        aid = m.group(1)
        try:
            docs.append(
                ParsedDocument(
                    kind="paper",
                    text=clean_text(e["summary"]),
                    title=clean_text(e.get("title", "")) or None,
                    url=f"https://arxiv.org/abs/{aid}",
                    published_at=parse_date(e.get("published")),
                    external_id=f"arxiv:{aid}",
                    quality=5,
                    meta={"abstract_only": True, "authors": [a.get("name") for a in e.get("authors", []) if isinstance(a, dict)]},
                )
            )
        except Exception as exc:  # an entry no rule foresaw costs that entry
            issues.append(ParseIssue(f"entry {i}", record_failure(exc)))
    if not docs and not issues:
        raise ParseError("arXiv response has no entries (unknown id?)")
    return ParseResult(format="arxiv_atom", documents=docs, issues=issues)


def _sniff_pdf(name: str, head: bytes) -> bool:
    return head.startswith(b"%PDF")


PARSERS = [
    ParserSpec("github_repo_json", _sniff_github_meta, _parse_github_meta, version=1),
    ParserSpec("arxiv_atom", _sniff_arxiv, _parse_arxiv, version=1),
    ParserSpec("pdf", _sniff_pdf, _parse_pdf, version=1),
    ParserSpec("repo_readme", _sniff_readme, _parse_readme, version=1),
    ParserSpec("text", _sniff_text, _parse_text, version=1),
]
