"""What a parser is: ``ParserSpec`` (a format name, a cheap sniffer, a parse function and a version).

Plain data. The parser modules import it from here, and the registry in
``pipelines.core.parsers`` orders their specs, so no parser module imports the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.core.records import ParseResult

SniffFn = Callable[[str, bytes], bool]
ParseFn = Callable[[bytes, str], ParseResult]


@dataclass(frozen=True)
class ParserSpec:
    name: str  # the format name recorded in snapshots.format, e.g. "youtube_transcript_json"
    sniff: SniffFn
    parse: ParseFn
    version: int = 1  # bump when the parser's output changes: invalidates cached parses
