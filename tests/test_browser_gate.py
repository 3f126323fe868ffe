"""The browser tests skip on a machine without Chromium, and fail when CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run_browser_tests(tmp_path: Path, require: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CORPUS_CHROMIUM": str(tmp_path / "no-such-chromium")}
    env.pop("CORPUS_REQUIRE_BROWSER", None)
    if require:
        env["CORPUS_REQUIRE_BROWSER"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", "tests/test_browser.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


def test_missing_browser_skips_with_what_to_install(tmp_path: Path) -> None:
    proc = _run_browser_tests(tmp_path, require=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n_tests = (REPO / "tests" / "test_browser.py").read_text().count("\ndef test_")
    assert n_tests >= 2 and proc.stdout.count("SKIPPED [1]") == n_tests and "FAILED" not in proc.stdout
    assert "install Debian's 'chromium' package" in proc.stdout


def test_missing_browser_fails_when_ci_requires_it(tmp_path: Path) -> None:
    proc = _run_browser_tests(tmp_path, require=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CORPUS_REQUIRE_BROWSER=1" in proc.stdout
    assert "SKIPPED" not in proc.stdout
