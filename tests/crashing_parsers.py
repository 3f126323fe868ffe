"""Parsers that misbehave on purpose, for the isolation tests (tests/test_parser_hardening.py): one dies
of SIGSEGV, one never returns, one allocates without bound. Module-level functions, so that worker
processes can import them; files they do not claim go to the real parsers."""

from __future__ import annotations

import ctypes
import time

from pipelines.core.parsers import ParserSpec, all_parsers
from pipelines.core.records import ParseResult


def _crash(data: bytes, name: str) -> ParseResult:
    ctypes.string_at(0)  # reads address 0: SIGSEGV, as a native parser bug would
    raise AssertionError("unreachable")


def _forever(data: bytes, name: str) -> ParseResult:
    while True:
        time.sleep(0.05)


def _hog(data: bytes, name: str) -> ParseResult:
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))


def _is_crash(name: str, head: bytes) -> bool:
    return name.endswith(".crash")


def _is_forever(name: str, head: bytes) -> bool:
    return name.endswith(".forever")


def _is_hog(name: str, head: bytes) -> bool:
    return name.endswith(".hog")


PARSERS = [
    ParserSpec("segfault", _is_crash, _crash),
    ParserSpec("runaway", _is_forever, _forever),
    ParserSpec("memory_hog", _is_hog, _hog),
    *all_parsers(),
]
