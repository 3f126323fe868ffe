"""Every declared dependency is used: imported by the package, or used without an import for a
stated reason. A dependency nothing uses is weight, and a reader's false lead."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# distribution -> the module the code imports
MODULE = {
    "pyyaml": "yaml",
    "youtube-transcript-api": "youtube_transcript_api",
    "webvtt-py": "webvtt",
    "pystemmer": "Stemmer",
    "pebble": "pebble",
    "cmarkgfm": "cmarkgfm",
}
# used without a Python import, and why
WITHOUT_IMPORT = {
    "dagster-webserver": "serves the UI of `dg dev`",
    "dagster-dg-cli": "the `dg` command (dg dev, dg check defs, dg launch)",
    "duckdb-extension-fts": "the FTS extension, loaded by its file path (pipelines/core/warehouse.py)",
    "spacy-lookups-data": "the lemma lookup tables spaCy loads by name",
}


def _declared() -> list[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].strip().lower() for d in deps]


def test_every_declared_dependency_is_used() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "pipelines").rglob("*.py"))
    unused = []
    for dist in _declared():
        if dist in WITHOUT_IMPORT:
            continue
        module = MODULE.get(dist, dist.replace("-", "_"))
        if not re.search(rf"^\s*(?:import|from)\s+{re.escape(module)}\b", source, re.M):
            unused.append(dist)
    assert not unused, f"declared in pyproject.toml but imported nowhere in pipelines/: {unused}"


def test_the_without_import_list_names_only_declared_dependencies() -> None:
    assert set(WITHOUT_IMPORT) <= set(_declared())
