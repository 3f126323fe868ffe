"""Every configuration mistake fails before any work starts: `corpus validate` and `corpus run` exit 2
with the file, the entry (by id) and the field, and the nearest valid id or field; the run writes
nothing; the Dagster code location refuses to load (what makes `dg check defs` fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import child_env

from pipelines.cli import main
from pipelines.core.validate import InvalidProject

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "maren-holt"

# (file under analysis/, text to replace, its replacement, what the message must name)
MISTAKES = {
    "unknown phrase id": (
        "claims.yaml", "params: {phrase: slow-concrete}\n    comparator: eq", "params: {phrase: slow-concrte}\n    comparator: eq",
        ["claims.yaml", "claim 'slow-concrete-posts'", "field 'params.phrase'", "unknown phrase id 'slow-concrte'", "did you mean 'slow-concrete'?"],
    ),
    "unknown entity id": (
        "claims.yaml", "params: {entity: otto-brandt}", "params: {entity: otto-brant}",
        ["claims.yaml", "claim 'cites-otto-brandt'", "field 'params.entity'", "did you mean 'otto-brandt'?"],
    ),
    "unknown source id": (
        "claims.yaml", "source_ids: [video-bridges-that-last]", "source_ids: [video-bridges-that-lost]",
        ["claims.yaml", "claim 'talk-words'", "field 'scope.source_ids'", "did you mean 'video-bridges-that-last'?"],
    ),
    "unknown metric": (
        "claims.yaml", "metric: phrase_first_use", "metric: phrase_first_used",
        ["claims.yaml", "claim 'slow-concrete-coined'", "field 'metric'", "did you mean 'phrase_first_use'?"],
    ),
    "misspelled claim field": (
        "claims.yaml", "comparator: within", "comparitor: within",
        ["claims.yaml", "claim 'slow-concrete-coined'", "field 'comparitor'", "did you mean 'comparator'?"],
    ),
    "bad scope kind": (
        "claims.yaml", "scope: {kinds: [tweet]}\n\n  - id: cites", "scope: {kinds: [tweets]}\n\n  - id: cites",
        ["claims.yaml", "claim 'bridge-literacy-posts-on-x'", "field 'scope.kinds[0]'", "'tweets' is not one of", "did you mean 'tweet'?"],
    ),
    "misspelled lexicon field": (
        "lexicon.yaml", 'forms: ["bridge literacy"]', 'froms: ["bridge literacy"]',
        ["lexicon.yaml", "entry 'bridge-literacy'", "field 'froms'", "did you mean 'forms'?"],
    ),
    "bad catalog kind": (
        "catalog.yaml", "kind: blog_feed", "kind: blogfeed",
        ["catalog.yaml", "entry 'blog-maren'", "field 'kind'", "did you mean 'blog_feed'?"],
    ),
    "misspelled catalog field": (
        "catalog.yaml", "youtube_id: MHoltTalk01", "youtub_id: MHoltTalk01",
        ["catalog.yaml", "entry 'video-bridges-that-last'", "field 'youtub_id'", "did you mean 'youtube_id'?"],
    ),
    "misspelled thinker field": (
        "catalog.yaml", "twitter: mholt_example", "twiter: mholt_example",
        ["catalog.yaml", "field 'thinker.twiter'", "did you mean 'twitter'?"],
    ),
    "audit of an unknown claim": (
        "audit.yaml", "- id: talks-count", "- id: talk-count",
        ["audit.yaml", "entry 'talk-count'", "field 'id'", "did you mean 'talks-count'?"],
    ),
}
# Files the example does not have: a mistake is a whole file.
NEW_FILES = {
    "era date": (
        "eras.yaml", "eras:\n  - {id: early-work, name: Early work, start: '2023-13', end: '2024', description: x}\n",
        ["eras.yaml", "entry 'early-work'", "field 'start'", "'2023-13' is not a real date"],
    ),
    "event source id": (
        "eras.yaml",
        "eras:\n  - {id: early-work, name: Early work, start: '2023', end: '2024', description: x}\n"
        "events:\n  - {id: first-post, title: First post, date: '2023-09', sources: [blog-slow-concret]}\n",
        ["eras.yaml", "entry 'first-post'", "field 'sources'", "did you mean 'blog-slow-concrete'?"],
    ),
    "query of an unknown table": (
        "queries/posts.sql", "SET VARIABLE k = 'tweet';\nSELECT count(*) FROM documnets WHERE kind = getvariable('k');\n",
        ["posts.sql", "statement 2", "table 'documnets'", "did you mean 'documents'?"],
    ),
    "fetch setting": (
        "fetch.yaml", "http: {max_atempts: 2}\n",
        ["fetch.yaml", "field 'http.max_atempts'", "did you mean 'max_attempts'?"],
    ),
}


def broken_copy(tmp_path: Path, name: str) -> tuple[Path, list[str]]:
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root)
    if name in MISTAKES:
        file, old, new, needles = MISTAKES[name]
        path = root / "analysis" / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    else:
        file, body, needles = NEW_FILES[name]
        path = root / "analysis" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root, needles


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("name", [*MISTAKES, *NEW_FILES])
def test_each_mistake_fails_before_any_work(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    root, needles = broken_copy(tmp_path, name)
    before = tree(root)
    assert main(["validate", "--project", str(root)]) == 2
    err = capsys.readouterr().err
    line = next((ln for ln in err.splitlines() if needles[-1] in ln), "")
    for n in needles:  # all on the one line that names the mistake
        assert n in line, (n, err)
    assert main(["--project", str(root), "run", "--offline"]) == 2
    assert needles[-1] in capsys.readouterr().err
    assert tree(root) == before  # refused before anything was written
    with pytest.raises(InvalidProject, match="invalid configuration"):
        from pipelines.defs.location import build_defs

        build_defs(str(root))


def test_the_example_itself_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--project", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "thinker Maren Holt; 6 sources, 2 phrases, 1 entities, 10 claims" in out


def test_dg_check_defs_fails_on_an_invalid_project(tmp_path: Path) -> None:
    root, needles = broken_copy(tmp_path, "unknown phrase id")
    dg = Path(sys.executable).with_name("dg")
    proc = subprocess.run(
        [str(dg), "check", "defs", "--target-path", str(REPO)],
        env=child_env(CORPUS_PROJECT_DIR=str(root)), capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "All definitions loaded successfully" not in out
    assert needles[-1] in out and "slow-concrete-posts" in out
    ok = subprocess.run(
        [str(dg), "check", "defs", "--target-path", str(REPO)],
        env=child_env(CORPUS_PROJECT_DIR=str(EXAMPLE)), capture_output=True, text=True, timeout=600, check=False,
    )
    assert ok.returncode == 0 and "All definitions loaded successfully" in ok.stdout, ok.stdout + ok.stderr
