"""The ids the project checks before using them in file paths, SQL values and URLs: the safe id of
config entries (sources, claims, phrases, eras) and the YouTube video id. One validator each."""

from __future__ import annotations

import re

SAFE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,95}$")
YOUTUBE_ID_RE = re.compile(r"[A-Za-z0-9_-]{11}")


def check_safe_id(value: str) -> str:
    """Ids become file names and SQL values: lower-case letters, digits, '_', '.', '-' only."""
    if not SAFE_ID_RE.match(value) or ".." in value:
        raise ValueError(
            f"id {value!r} is not allowed: use lower-case letters, digits, '_', '.' or '-' "
            "(start with a letter or digit, no '..', at most 96 characters)"
        )
    return value


def is_youtube_id(value: object) -> bool:
    """True for an 11-character YouTube video id (letters, digits, '_' and '-'), and nothing else."""
    return isinstance(value, str) and YOUTUBE_ID_RE.fullmatch(value) is not None
