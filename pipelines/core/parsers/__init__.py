"""Format parsers: pure functions from bytes to ParseResult, plus the registry that picks one.

Each parser module exposes ``PARSERS``: a list of ``ParserSpec`` in the order they should be
tried. ``sniff(name, head)`` looks only at the file name (a relative path inside raw/, '/'
separated) and the first 64 KiB; it must be cheap and must not raise. The first spec whose
sniff says yes parses the file. Order across modules is fixed in ``all_parsers()``:
specific formats before generic ones (plain text / Markdown last).
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.core.parsers.spec import ParseFn, ParserSpec, SniffFn

__all__ = ["COMMON_VERSION", "ParseFn", "ParserSpec", "SniffFn", "all_parsers", "find_parser"]


# Bump when shared parsing code (parsers/common.py, textutil.py) changes output: every cached parse
# is redone. A parser's own ``version`` covers changes to that parser alone.
COMMON_VERSION = 4  # 3: ingest.vet_result flags implausible dates, drops non-http links; 4: the vetting pass (core/vetting.py), cmark-gfm, record-level recovery


def all_parsers() -> list[ParserSpec]:
    from pipelines.core.parsers import blog, generic, listing, skip, transcripts, tweets

    # arXiv API responses and GitHub metadata (in generic) must win over the feed and tweet-JSON sniffers.
    early = [p for p in generic.PARSERS if p.name in ("github_repo_json", "arxiv_atom")]
    late = [p for p in generic.PARSERS if p not in early]
    specs = [*skip.PARSERS, *early, *listing.PARSERS, *tweets.PARSERS, *transcripts.PARSERS, *blog.PARSERS, *late]
    return [replace(p, version=p.version * 1000 + COMMON_VERSION) for p in specs]


def find_parser(name: str, head: bytes, parsers: list[ParserSpec] | None = None) -> ParserSpec | None:
    for spec in parsers if parsers is not None else all_parsers():
        try:
            if spec.sniff(name, head):
                return spec
        except Exception:  # noqa: S112 - a sniffer bug must not stop detection of other formats
            continue
    return None
