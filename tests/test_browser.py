"""The UI and the report, used as a person would: headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright; no browser download).

`.ci/run` installs Chromium and sets CORPUS_REQUIRE_BROWSER=1, so in CI a missing browser is a
FAILURE: there they never pass without having looked. Elsewhere (a fresh machine without Chromium) they
skip with a one-line reason naming what to install.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import make_offline_project

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CORPUS_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _require_chromium() -> None:
    """Checked before any test starts its servers or runs."""
    if not _chromium_runs():
        reason = (
            f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package "
            "(apt-get install chromium; .ci/run does) or set CORPUS_CHROMIUM to a Chromium binary"
        )
        if os.environ.get("CORPUS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (CORPUS_REQUIRE_BROWSER=1: the browser tests must run)")
        pytest.skip(reason)


def _browser(playwright):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)


def _chromium_runs() -> bool:
    """A Chromium binary exists and is a real executable (not hidden by an empty bind mount)."""
    path = Path(CHROMIUM)
    try:
        return path.is_file() and path.stat().st_size > 0 and os.access(path, os.X_OK)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _project(tmp: Path) -> Path:
    root = make_offline_project(tmp)
    (root / "analysis" / "fetch.yaml").write_text("youtube: {enabled: false}\nfeeds: {enabled: false}\narxiv: {enabled: false}\ngithub: {enabled: false}\n")
    # a tweet carrying markup: it must show as text in the report
    (root / "raw" / "inbox" / "hostile.csv").write_text(
        'tweet_id,text,created_at\n1000000000000000099,"<script>window.__pwned=1</script> I love Factorio <img src=x onerror=alert(1)>",2023-05-05 10:00:00\n'
    )
    return root


def _landed(root: Path, text: str) -> int:
    """Documents in the published warehouse containing the text (0 before the first publish)."""
    import duckdb

    db = root / "warehouse" / "corpus.duckdb"
    if not db.exists():
        return 0
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return 0
    try:
        return int(con.execute("SELECT count(*) FROM documents WHERE text LIKE ?", [f"%{text}%"]).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


def test_dagster_ui_lists_assets_and_runs_a_materialization(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    root = _project(tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: {home / 'storage'}\n"
        f"local_artifact_storage:\n  module: dagster._core.storage.root\n  class: LocalArtifactStorage\n  config:\n    base_dir: {home}\n"
    )
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CORPUS_PROJECT_DIR": str(root), "CORPUS_OFFLINE": "1"}
    log = (tmp_path / "dg-dev.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):  # noqa: S310
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dg dev did not start: {(tmp_path / 'dg-dev.log').read_text()[-3000:]}")
                time.sleep(1)
        with sync_api.sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/assets", wait_until="domcontentloaded")
            page.get_by_text("Never materialized").first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "dagster-assets.png"), full_page=True)
            skip = page.get_by_role("button", name="Skip")  # Dagster's one-time community dialog
            if skip.count():
                skip.first.click()
            for name in ("raw_files", "documents", "phrase_frequencies", "claims", "published_warehouse"):
                # each asset has its page in the catalog (the list itself is virtualised)
                page.goto(f"http://127.0.0.1:{port}/assets/{name}", wait_until="domcontentloaded")
                page.get_by_text("Never materialized").first.wait_for(timeout=60_000)
                assert page.get_by_text(name, exact=True).count() >= 1, name
            # launch the ingest job through the UI's GraphQL API and watch it finish
            repos = _graphql(port, "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
            node = repos["data"]["repositoriesOrError"]["nodes"][0]
            launched = _graphql(
                port,
                """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
                     __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
                {"p": {"selector": {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"], "jobName": "corpus_ingest"}, "runConfigData": {}}},
            )
            assert launched["data"]["launchRun"]["__typename"] == "LaunchRunSuccess", launched
            run_id = launched["data"]["launchRun"]["run"]["runId"]
            status = None
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                status = _graphql(port, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id})["data"]["runOrError"]["status"]
                if status in ("SUCCESS", "FAILURE", "CANCELED"):
                    break
                time.sleep(2)
            if status != "SUCCESS":
                logs = _graphql(
                    port,
                    """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
                         __typename ... on ExecutionStepFailureEvent { stepKey error { message cause { message } } } } } } }""",
                    {"id": run_id},
                )
                failures = [e for e in logs["data"]["logsForRun"]["events"] if e.get("__typename") == "ExecutionStepFailureEvent"]
                pytest.fail(f"the run launched from the UI ended {status}: {json.dumps(failures)[:3000]}")
            page.goto(f"http://127.0.0.1:{port}/runs/{run_id}", wait_until="domcontentloaded")
            page.get_by_text("Success", exact=False).first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "dagster-run.png"), full_page=True)

            # turn the inbox sensor on, as a user would in Automation, and drop a transcript:
            # the daemon started by `dg dev` ingests it without a manual run
            selector = {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"], "sensorName": "inbox_sensor"}
            started = _graphql(
                port,
                """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
                     __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }""",
                {"s": selector},
            )
            assert started["data"]["startSensor"]["__typename"] == "Sensor", started
            (root / "raw" / "inbox" / "dropped").mkdir()
            (root / "raw" / "inbox" / "dropped" / "new-talk_CCCCCCCCCCC.vtt").write_text(
                "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nA freshly dropped talk about tiny engines.\n"
            )
            found = None
            deadline = time.monotonic() + 480  # sensor interval 30 s, then a queued run; slow under load
            while time.monotonic() < deadline and found is None:
                runs = _graphql(
                    port,
                    """{ runsOrError(filter: {tags: [{key: "corpus/trigger", value: "inbox"}]}) {
                         ... on Runs { results { runId status } } } }""",
                )["data"]["runsOrError"]["results"]
                if any(r["status"] == "SUCCESS" for r in runs) and _landed(root, "freshly dropped talk") == 1:
                    found = next(r["runId"] for r in runs if r["status"] == "SUCCESS")
                time.sleep(3)
            assert found, "the inbox sensor did not ingest the dropped file"
            browser.close()
        assert _landed(root, "freshly dropped talk") == 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_report_opens_offline_with_claims_charts_and_escaped_text(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from pipelines.cli import main

    root = _project(tmp_path)
    cwd = Path.cwd()
    try:
        assert main(["--project", str(root), "run", "--offline"]) == 0
    finally:
        os.chdir(cwd)
    index = root / "reports" / "index.html"
    assert index.exists()
    assert (root / "reports" / "tweets.html").exists()  # the tweet archive is written with the report
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(index.as_uri(), wait_until="load")
        assert page.locator("#claims").count() == 1
        assert page.locator("svg").count() >= 1
        assert page.evaluate("window.__pwned") is None  # the tweet's <script> did not run
        assert "<script>window.__pwned=1</script>" in page.content().replace("&lt;", "<").replace("&gt;", ">")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert [u for u in requests if not u.startswith("file://") and not u.startswith("data:")] == []


def _tweet_warehouse(path: Path) -> None:
    """Invented tweets: a phrase in curly quotes, a reply, a retweet (not his), markup, no status id."""
    from datetime import UTC, datetime

    from pipelines.core.warehouse import connect, frame, replace_table

    rows = [  # doc_id, published_at, is_own, is_reply, url, text
        ("tweet-11", datetime(2022, 3, 1, 9, 0, tzinfo=UTC), True, False, "https://x.com/adaex/status/11",
         "Builds “bicycle for the mind” tools, not oracles."),
        ("tweet-12", datetime(2023, 6, 2, 9, 0, tzinfo=UTC), True, True, "https://x.com/adaex/status/12",
         "@someone a bicycle is not a mind, it carries one"),
        ("tweet-13", datetime(2023, 7, 3, 9, 0, tzinfo=UTC), False, False, "https://x.com/other/status/13",
         "RT @other: bicycle for the mind"),
        ("tweet-14", datetime(2024, 1, 4, 9, 0, tzinfo=UTC), True, False, "https://x.com/adaex/status/14",
         "<script>window.__pwned=1</script> my bicycle <img src=x onerror=\"window.__pwned=2\">"),
        ("tweet-nokey-15", datetime(2024, 2, 5, 9, 0, tzinfo=UTC), True, False, None, "Mindful walking beats cycling"),
        ("tweet-16", datetime(2024, 3, 6, 9, 0, tzinfo=UTC), True, True, "https://x.com/adaex/status/16",
         "Licklider’s symbiosis, the original bicycle-for-the-mind idea"),
    ]
    con = connect(path)
    try:
        docs = [dict(doc_id=d, source_id="tweets", kind="tweet", published_at=p, is_own=own, url=u, text=t, title=None,
                     word_count=len(t.split()), versions=1) for d, p, own, _, u, t in rows]
        replace_table(con, "documents", frame("documents", docs))
        replace_table(con, "tweets", frame("tweets", [
            dict(tweet_id=d.removeprefix("tweet-"), doc_id=d, created_at=p, text=t, is_retweet=not own, is_reply=r,
                 is_quote=False, has_id=u is not None) for d, p, own, r, u, t in rows]))
    finally:
        con.close()


def test_tweet_archive_page_searches_as_you_type_offline(tmp_path: Path) -> None:
    """reports/tweets.html opened as a file with the network off: typing filters the own tweets, the
    count is right, matches are marked, filters work, markup stays text, the CSP blocks nothing of its own."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from pipelines.core.tweetpage import write_tweet_page
    from pipelines.core.warehouse import connect

    db = tmp_path / "w.duckdb"
    _tweet_warehouse(db)
    con = connect(db, read_only=True)
    try:
        page_path = write_tweet_page(con, tmp_path / "reports", thinker="Ada Example", state="test")
    finally:
        con.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = _browser(pw)
        context = browser.new_context(offline=True)
        page = context.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri(), wait_until="load")

        def shown() -> list[str]:
            return page.locator("#results li p").all_inner_texts()

        def count() -> int:
            return int(page.locator("#count").get_attribute("data-count") or -1)

        assert count() == 5 and len(shown()) == 5  # own tweets only: the retweet is left out
        assert shown()[0].startswith("Licklider")  # newest first
        page.locator("#q").press_sequentially("bicycle mi")  # as you type: the last word unfinished
        assert count() == 3
        assert [t[:12] for t in shown()] == ["Licklider’s ", "@someone a b", "Builds “bicy"]
        assert page.locator("#results li:nth-child(3) mark").all_inner_texts() == ["bicycle", "mi"]  # what was typed
        page.locator("#q").fill('"bicycle for the mind"')  # an exact phrase: quotes and dashes do not matter
        assert count() == 2
        assert page.locator("#results mark").all_inner_texts() == ["bicycle-for-the-mind", "bicycle for the mind"]
        page.locator("#q").fill("bicycle")
        assert count() == 4
        page.locator("#year").select_option("2023")
        assert count() == 1 and shown() == ["@someone a bicycle is not a mind, it carries one"]
        page.locator("#year").select_option("")
        page.locator("#replies").select_option("exclude")
        assert count() == 2
        page.locator("#replies").select_option("only")
        assert count() == 2
        page.locator("#replies").select_option("include")
        page.locator("#q").fill("walking")
        assert count() == 1
        assert page.locator("#results li .nolink").count() == 1 and page.locator("#results li a").count() == 0
        page.locator("#q").fill("script")
        assert shown() == ['<script>window.__pwned=1</script> my bicycle <img src=x onerror="window.__pwned=2">']
        assert page.evaluate("window.__pwned") is None  # shown as text, never run
        assert page.locator("#results img").count() == 0
        page.locator("#q").fill("bicycle")
        page.screenshot(path=str(ARTIFACTS / "tweets.png"), full_page=True)
        browser.close()
    assert not errors, errors  # a blocked script or style would be reported here (CSP violations)
    assert [u for u in requests if not u.startswith("file://")] == []
    import html

    text = html.unescape(page_path.read_text(encoding="utf-8"))
    assert "script-src 'sha256-" in text and "default-src 'none'" in text and "unsafe-inline" not in text


PROFILE = """Ada the Thinker
A profile of an invented thinker

She loves Factorio. <script>window.__pwned=2</script> She never mentions turnips.
Source: her tweets
"""
PROFILE_CLAIMS = """profile: profile.txt
as_of: 2026-03
claims:
  - {id: factorio-cited, section: Intro, quote: "She loves Factorio.", type: phrase_count, metric: pattern_documents,
     params: {pattern: factorio}, comparator: ge, expected: 1, scope: {kinds: [tweet], own_only: false}}
  - {id: no-turnips, section: Intro, quote: "She never mentions turnips", type: phrase_count, metric: pattern_documents,
     params: {pattern: turnip}, comparator: le, expected: 0, scope: {kinds: [tweet], own_only: false}}
  - {id: nowhere, section: Intro, quote: "A sentence the profile does not hold", type: not_checkable, reason: an example}
"""


def test_the_annotated_profile_shows_a_claims_evidence_when_its_mark_is_clicked(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from pipelines.cli import main

    root = _project(tmp_path)
    (root / "profile.txt").write_text(PROFILE)
    (root / "analysis" / "claims.yaml").write_text(PROFILE_CLAIMS)
    cwd = Path.cwd()
    try:
        assert main(["--project", str(root), "run", "--offline"]) == 0
    finally:
        os.chdir(cwd)
    page_path = root / "reports" / "profile.html"
    assert page_path.exists()
    assert 'href="profile.html"' in (root / "reports" / "index.html").read_text()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = _browser(pw)
        context = browser.new_context(offline=True)  # the page needs no network
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri(), wait_until="load")
        assert page.evaluate("window.__pwned") is None  # the profile's own markup stays text
        mark = page.locator('mark[data-claims="factorio-cited"]')
        assert mark.count() == 1 and mark.inner_text() == "She loves Factorio" and "v-supported" in mark.get_attribute("class")
        mark.click()
        panel = page.locator("#panel")
        assert panel.is_visible() and "factorio-cited" in panel.inner_text() and "supported" in panel.inner_text()
        link = panel.locator(".ev a").first
        assert link.get_attribute("href") == "https://x.com/i/status/1000000000000000099"
        # the filter: only contradicted marks stay highlighted
        turnips = page.locator('mark[data-claims="no-turnips"]')
        assert "v-supported" in turnips.get_attribute("class")
        page.check("#only-contradicted")
        assert page.evaluate("getComputedStyle(document.querySelector('mark[data-claims=\"factorio-cited\"]')).backgroundColor") in (
            "rgba(0, 0, 0, 0)", "transparent")
        assert page.locator(".unplaced mark").inner_text() == "nowhere"  # a claim not found in the text is listed
        page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)
        browser.close()
    assert not errors, errors
