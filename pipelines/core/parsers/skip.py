"""Files that are recognised but carry no corpus text (licences, site configs, templates), and binary
files that no text parser should touch. Skipped files are recorded with the reason, never dropped."""

from __future__ import annotations

import re

from pipelines.core.parsers.common import basename, suffix
from pipelines.core.parsers.spec import ParserSpec
from pipelines.core.records import ParseError, ParseResult

_LICENCE = re.compile(r"^(licen[cs]e|copying|notice)([._-].*)?$", re.I)
_CONFIG_NAMES = {"_config.yml", "_config.yaml", ".gitkeep", ".ds_store", "thumbs.db", "desktop.ini", ".gitignore"}
_BINARY_OK = (b"%PDF", b"PK\x03\x04")  # PDFs and zips have their own parsers


def _skip_reason(name: str, head: bytes) -> str | None:
    base = basename(name)
    low = base.lower()
    if _LICENCE.match(low) or low.startswith("license.") or ".license" in low or low.startswith("licence."):
        return "licence file: no corpus text"
    if low in {"manifest.md", "manifest.txt", "manifest.json"}:
        return "corpus manifest: describes the files, is not corpus text"
    if low in _CONFIG_NAMES:
        return "site or tool configuration: no corpus text"
    if low.endswith(".jekyll-template") or (b"{%" in head[:4096] and b"{{" in head[:4096] and suffix(name) in {".xml", ".html", ".liquid"}):
        return "Jekyll/Liquid template (not rendered content): no corpus text"
    return None


def _sniff_skip(name: str, head: bytes) -> bool:
    return _skip_reason(name, head) is not None


def _parse_skip(data: bytes, name: str) -> ParseResult:
    return ParseResult(format="not_corpus", skipped_reason=_skip_reason(name, data[:65536]))


_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x7fELF", b"MZ", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"RIFF", b"OggS", b"ID3")


def is_binary(head: bytes) -> bool:
    """Known binary magic, or more than 5% NUL/control bytes in the first 8 KiB (UTF-16 with a BOM and
    text with a few stray NULs, e.g. a scraped CSV, are text)."""
    if not head or head.startswith(_BINARY_OK) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if head.startswith(_MAGIC):
        return True
    sample = head[:8192]
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if control / len(sample) > 0.05:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(sample) - 4 and sum(1 for b in sample if b >= 0x80) / len(sample) > 0.3:
            return True  # mostly high bytes that are not UTF-8: not a text encoding we read
    return False


def _parse_binary(data: bytes, name: str) -> ParseResult:
    kind = "image" if data[:4] in (b"\x89PNG", b"GIF8") or data[:3] == b"\xff\xd8\xff" else "binary"
    raise ParseError(f"binary file ({kind} data, NUL or control bytes near the start), not text; nothing to read")


TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".js", ".html",
                 ".htm", ".xml", ".rss", ".atom", ".vtt", ".srt", ".yml", ".yaml", ".rst", ""}


def _sniff_binary(name: str, head: bytes) -> bool:
    return suffix(name) in TEXT_SUFFIXES and is_binary(head)


PARSERS = [
    ParserSpec("not_corpus", _sniff_skip, _parse_skip, version=1),
    # Only files named as text: a binary file with an unknown extension is "no parser", with its bytes shown.
    ParserSpec("binary", _sniff_binary, _parse_binary, version=1),
]
