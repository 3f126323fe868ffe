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


def decode_bytes(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM; else ParseError."""
    from pipelines.core.records import ParseError

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ParseError(f"invalid UTF-16 at byte {e.start}: {e.reason}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(f"not valid UTF-8 at byte {e.start}: {e.reason}") from e
