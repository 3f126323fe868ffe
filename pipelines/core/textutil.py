"""Text helpers shared by parsers and analysis: one tokenisation for word counts."""

from __future__ import annotations

import html
import re
import unicodedata

# A word is a run of letters/digits, with inner apostrophes or hyphens kept inside it:
# "don't", "from-scratch", "GPT-2" and "3.0"-style numbers' parts each count once.
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*", re.UNICODE)
_ASCII_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WS_RE = re.compile(r"[ \t\r\f\v]+")
_MULTI_NL_RE = re.compile(r"\n{3,}")


def word_count(text: str) -> int:
    """The project's one word count (documented in docs/warehouse.md)."""
    return len(WORD_RE.findall(text))


def clean_text(text: str) -> str:
    """Decode HTML entities, normalise Unicode (NFC), drop NULs/control chars, tidy spaces."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    if text.isascii():  # fast path, same result: the only ASCII "C" characters are the controls
        text = _ASCII_CONTROL_RE.sub("", text)
    else:
        text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [_WS_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _MULTI_NL_RE.sub("\n\n", "\n".join(lines)).strip()


def join_fragments(parts: list[str]) -> str:
    """Join caption fragments into running text (one space between, no duplicates of blank)."""
    out = " ".join(p.strip() for p in parts if p and p.strip())
    return _WS_RE.sub(" ", out).strip()


_BOMS = (  # longest first: a UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\xfe\xff", "utf-16-be", 2),
)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) for UTF-16/UTF-32 data that starts with a byte order mark, else None."""
    for bom, codec, unit in _BOMS:
        if data.startswith(bom):
            return codec, unit
    return None


def to_utf8(data: bytes, *, partial: bool = False) -> bytes:
    """UTF-16/UTF-32 with a BOM re-encoded as UTF-8 (BOM dropped), so sniffing and parsing see what the
    file is; a UTF-8 BOM is dropped; anything else is returned as it is. ``partial`` is for a file's first
    bytes (the sniffing head): a code unit or pair cut at the end is replaced instead of refused.
    Invalid UTF-16/UTF-32 raises ParseError naming the byte."""
    from pipelines.core.records import ParseError

    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    found = bom_encoding(data)
    if found is None:
        return data
    codec, unit = found
    body = data[unit:]
    if partial:
        return body[: len(body) // unit * unit].decode(codec, "replace").encode("utf-8")
    try:
        return body.decode(codec).encode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(f"invalid {codec.upper()[:6]} at byte {e.start + unit}: {e.reason}") from e


def decode_bytes(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 or UTF-32 with a BOM; else ParseError."""
    from pipelines.core.records import ParseError

    if bom_encoding(data) is not None:
        return to_utf8(data).decode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(f"not valid UTF-8 at byte {e.start}: {e.reason}") from e
