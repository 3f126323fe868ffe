"""The benchmark harness: `corpus run` on synthetic corpora at several scales, timed per stage.

    uv run python bench/run.py --scales 1,10,100

For each scale it generates (or reuses) a project under ``bench/out/x<scale>/``
(bench/generate.py), then measures, each in a child process:

* a cold ``corpus run --offline`` (no warehouse, no caches, no Dagster history), a no-change
  re-run, and a re-run after one new Markdown post was dropped into raw/inbox/;
* per stage (from the Dagster run's step statistics in the project's instance): wall seconds,
  words per second and peak RSS (the child's process tree, sampled every 50 ms from /proc;
  the whole run's peak is exact, from wait4); the NLP part of ``text_analysis`` is split off
  with the seconds the step reports in its metadata; what is left of the wall time outside any
  step is Dagster's start-up and orchestration;
* the exact-count check: ``phrase_frequencies`` and ``citation_tallies`` (own documents, all
  time, per kind and '*') and documents per kind must equal the generator's expected.json, after
  the cold run and again (with the new post's counts added) after the new-file run;
* the baseline (bench/baseline.py: a plain script, same files, same counts, into DuckDB), its
  counts checked the same way, and the pipeline/baseline ratio;
* median latency on the published warehouse of ``search()`` (BM25), ``kwic()`` (phrase id and
  free text), phrase-frequency SQL, and of the ``corpus search`` command end to end;
* Dagster's own start-up: ``import pipelines.definitions`` in a fresh interpreter.

Results go to ``bench/results/x<scale>.json``; ``bench/RESULTS.md`` is regenerated from every
results file present (between the ``bench:begin``/``bench:end`` markers; text outside them is
kept). ``--profile`` also runs one cold run under cProfile and records the top functions.
"""

from __future__ import annotations

import argparse
import cProfile  # noqa: F401 - used through `python -m cProfile` in a child
import importlib.metadata as md
import json
import os
import platform
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from generate import extra_post, generate  # noqa: E402
from render import STAGES, render, scale_name  # noqa: E402

PY = sys.executable
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

STEP_STAGE = {
    "fetched_sources": "fetch",
    "raw_files": "parse",
    "warehouse_tables": "load",
    "text_analysis": "nlp",  # split into nlp + derived below
    "verified_claims": "claims",
    "claim_verdicts": "claims",
    "published_warehouse": "publish",
    "report": "report",
}


# --------------------------------------------------------------------------- child processes


def _tree_rss_kb(root: int) -> int:
    """Resident set of a process and its descendants, from /proc (kB)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


def run_child(
    cmd: list[str],
    *,
    cwd: Path,
    log: Path,
    timeout: float | None = None,
    env: dict | None = None,
    max_rss_gb: float | None = None,
) -> dict[str, Any]:
    """Run a command; wall seconds, exit code, exact peak RSS (wait4) and RSS samples of its tree.

    ``timeout`` (s) and ``max_rss_gb`` (the tree's resident set) kill the child's process group.
    """
    samples: list[tuple[float, int]] = []
    killed: list[str] = []
    cap_kb = int(max_rss_gb * 1024 * 1024) if max_rss_gb else None
    with open(log, "wb") as out:
        t0 = time.time()
        p = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                rss = _tree_rss_kb(p.pid)
                samples.append((time.time(), rss))
                if cap_kb and rss > cap_kb and not killed:
                    killed.append(f"resident set over {max_rss_gb:g} GB")
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
                done.wait(0.05)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        timer = None
        if timeout:

            def kill() -> None:
                killed.append(f"over the {timeout / 60:g}-minute limit")
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass

            timer = threading.Timer(timeout, kill)
            timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.time() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        th.join()
        if timer:
            timer.cancel()
    return {
        "wall": round(wall, 3),
        "rc": p.returncode,
        "killed": killed[0] if killed else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "started": t0,
        "samples": samples,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


# --------------------------------------------------------------------------- the Dagster run


def step_stats(project: Path) -> dict[str, Any]:
    """Step timings of the project's latest Dagster run, and the NLP stats of text_analysis."""
    from dagster import DagsterEventType, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    cwd = Path.cwd()
    os.chdir(project)  # dagster.yaml's storage paths are relative to the project, as `corpus` runs it
    try:
        return _step_stats(DagsterInstance, DagsterEventType, InstanceRef, project)
    finally:
        os.chdir(cwd)


def _step_stats(DagsterInstance, DagsterEventType, InstanceRef, project: Path) -> dict[str, Any]:  # noqa: N803
    with DagsterInstance.from_ref(
        InstanceRef.from_dir(str(project / ".dagster_home"), config_dir=str(project))
    ) as inst:
        rec = inst.get_run_records(limit=1)[0]
        run_id = rec.dagster_run.run_id
        all_steps = inst.get_run_step_stats(run_id)
        steps = [
            {
                "step": s.step_key,
                "status": str(s.status.value if s.status else None),
                "start": s.start_time,
                "end": s.end_time,
            }
            for s in all_steps
            if s.start_time and s.end_time
        ]
        unfinished = [s.step_key for s in all_steps if s.start_time and not s.end_time]
        nlp: dict[str, Any] = {}
        for e in inst.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            m = e.dagster_event.event_specific_data.materialization  # type: ignore[union-attr]
            if m.asset_key.path[-1] == "sentences" and "nlp" in m.metadata:
                nlp = dict(m.metadata["nlp"].data)  # type: ignore[attr-defined]
    return {"run_id": run_id, "steps": steps, "nlp": nlp, "unfinished": unfinished}


def stage_table(child: dict[str, Any], stats: dict[str, Any], words: int) -> dict[str, Any]:
    secs = {k: 0.0 for k, _ in STAGES}
    peaks = {k: 0 for k, _ in STAGES}
    windows: dict[str, list[tuple[float, float]]] = {k: [] for k, _ in STAGES}
    for s in stats["steps"]:
        stage = STEP_STAGE.get(s["step"], "checks")
        secs[stage] += s["end"] - s["start"]
        windows[stage].append((s["start"], s["end"]))
    nlp_s = float(stats["nlp"].get("seconds") or 0.0)
    ta = next((s for s in stats["steps"] if s["step"] == "text_analysis"), None)
    if ta:
        secs["derived"] = max(0.0, (ta["end"] - ta["start"]) - nlp_s)
        secs["nlp"] = nlp_s
        windows["derived"] = windows["nlp"]
    in_steps = sum(v for k, v in secs.items() if k != "dagster")
    secs["dagster"] = max(0.0, child["wall"] - in_steps)
    samples = child["samples"]
    for stage, ws in windows.items():
        for a, b in ws:
            vals = [r for t, r in samples if a <= t <= b]
            if vals:
                peaks[stage] = max(peaks[stage], max(vals))
    first = min((s["start"] for s in stats["steps"]), default=child["started"])
    last = max((s["end"] for s in stats["steps"]), default=child["started"] + child["wall"])
    outside = [r for t, r in samples if t < first or t > last]
    peaks["dagster"] = max(outside, default=0)
    rows = {}
    for k, _ in STAGES:
        w = int(stats["nlp"].get("words") or 0) if k == "nlp" else words
        rows[k] = {
            "seconds": round(secs[k], 3),
            "words_per_s": round(w / secs[k]) if secs[k] > 0.05 and w else None,
            "peak_rss_mb": round(peaks[k] / 1024, 1) if peaks[k] else None,
        }
    return {
        "wall": child["wall"],
        "rc": child["rc"],
        "killed": child["killed"],
        "peak_rss_mb": child["peak_rss_mb"],
        "cpu_seconds": child["cpu_seconds"],
        "words_per_s": round(words / child["wall"]) if child["wall"] else None,
        "stages": rows,
        "nlp": stats["nlp"],
        "steps": [{"step": s["step"], "seconds": round(s["end"] - s["start"], 3)} for s in stats["steps"]],
    }


# --------------------------------------------------------------------------- checks


def _published(project: Path):
    from pipelines.core import warehouse as wh

    return wh.connect(project / "warehouse" / "corpus.duckdb", read_only=True)


def merge_expected(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for sec in ("documents", "own_documents"):
        for k, v in delta[sec].items():
            out[sec][k] = out[sec].get(k, 0) + v
    for sec, meas in (("phrases", "hits"), ("entities", "mentions")):
        for item, per in delta[sec].items():
            for k, v in per.items():
                cur = out[sec].setdefault(item, {}).setdefault(k, {meas: 0, "documents": 0})
                cur[meas] += v[meas]
                cur["documents"] += v["documents"]
    return out


def compare(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """Compare counts in expected.json's shape. Returns {exact, checked, mismatches[...]}."""
    bad: list[str] = []
    checked = 0
    for sec in ("documents", "own_documents"):
        for k, v in expected[sec].items():
            checked += 1
            g = got.get(sec, {}).get(k, 0)
            if g != v:
                bad.append(f"{sec}[{k}]: expected {v}, got {g}")
    for sec, meas in (("phrases", "hits"), ("entities", "mentions")):
        for item, per in expected[sec].items():
            for k, v in per.items():
                checked += 1
                g = got.get(sec, {}).get(item, {}).get(k, {meas: 0, "documents": 0})
                if (g.get(meas, 0), g.get("documents", 0)) != (v[meas], v["documents"]):
                    bad.append(
                        f"{sec}[{item}][{k}]: expected {v[meas]} {meas} in {v['documents']} docs, got {g.get(meas, 0)} in {g.get('documents', 0)}"
                    )
    return {"exact": not bad, "checked": checked, "mismatches": bad[:50], "n_mismatches": len(bad)}


def warehouse_counts(project: Path) -> dict[str, Any]:
    from pipelines.core import db

    con = _published(project)
    try:
        out: dict[str, Any] = {"documents": {}, "own_documents": {}, "phrases": {}, "entities": {}}
        for kind, n, own in con.execute(
            "SELECT kind, count(*), count(*) FILTER (WHERE is_own) FROM documents GROUP BY 1"
        ).fetchall():
            out["documents"][kind] = n
            out["own_documents"][kind] = own
        out["words"] = int(db.scalar(con, "SELECT coalesce(sum(word_count), 0) FROM documents"))
        for pid, kind, hits, docs in con.execute(
            "SELECT phrase_id, kind, hits, documents FROM phrase_frequencies WHERE period_month IS NULL"
        ).fetchall():
            out["phrases"].setdefault(pid, {})[kind] = {"hits": hits, "documents": docs}
        for eid, kind, m, docs in con.execute(
            "SELECT entity_id, kind, mentions, documents FROM citation_tallies"
        ).fetchall():
            out["entities"].setdefault(eid, {})[kind] = {"mentions": m, "documents": docs}
        return out
    finally:
        con.close()


# --------------------------------------------------------------------------- queries


def _median_ms(fn, repeats: int) -> dict[str, float]:
    fn()  # warm-up (first touch of the file, FTS tables)
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(ts), 2), "max_ms": round(max(ts), 2)}


def query_latency(project: Path, repeats: int) -> dict[str, Any]:
    from pipelines.core.kwic import kwic
    from pipelines.core.search import search

    con = _published(project)
    out: dict[str, Any] = {}
    try:
        for q in ("from scratch", "licklider", "working memory people"):
            out[f"search: {q}"] = _median_ms(lambda q=q: search(con, q, limit=20), repeats)
        out["kwic: phrase id from-scratch"] = _median_ms(lambda: kwic(con, "from-scratch", limit=50), repeats)
        out["kwic: free text 'Licklider'"] = _median_ms(lambda: kwic(con, "Licklider", limit=50), repeats)
        out["kwic: free text 'vibe coding'"] = _median_ms(lambda: kwic(con, "vibe coding", limit=50), repeats)
        out["sql: phrase_frequencies all time"] = _median_ms(
            lambda: con.execute(
                "SELECT phrase_id, hits, documents, per_10k_words FROM phrase_frequencies "
                "WHERE kind = '*' AND period_month IS NULL ORDER BY hits DESC"
            ).fetchall(),
            repeats,
        )
        out["sql: one phrase per month from phrase_hits"] = _median_ms(
            lambda: con.execute(
                "SELECT date_trunc('month', d.published_at) AS m, count(*) FROM phrase_hits h JOIN documents d USING (doc_id) "
                "WHERE h.phrase_id = 'from-scratch' AND h.is_own GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            repeats,
        )
    finally:
        con.close()
    return out


def cli_latency(project: Path, args: list[str], repeats: int, log: Path) -> dict[str, float]:
    ts = []
    for _ in range(repeats):
        r = run_child([PY, "-m", "pipelines.cli", "--project", str(project), *args], cwd=REPO, log=log)
        ts.append(r["wall"] * 1000)
    return {"median_ms": round(statistics.median(ts), 1), "max_ms": round(max(ts), 1)}


# --------------------------------------------------------------------------- one scale


def reset(project: Path) -> None:
    for d in ("warehouse", ".dagster_home", "reports"):
        shutil.rmtree(project / d, ignore_errors=True)
    shutil.rmtree(project / "raw" / "inbox" / "bench-new", ignore_errors=True)
    for f in ("baseline.duckdb",):
        (project / f).unlink(missing_ok=True)


def corpus_run(project: Path, log: Path, args: argparse.Namespace) -> dict[str, Any]:
    timeout = args.max_minutes * 60 if args.max_minutes else None
    cmd = [PY, "-m", "pipelines.cli", "--project", str(project), "run", "--offline"]
    env = dict(os.environ)
    if args.duckdb_memory_limit:  # a variant: the pipeline's own setting, another value
        env["CORPUS_DUCKDB_MEMORY_LIMIT"] = args.duckdb_memory_limit
    return run_child(cmd, cwd=REPO, log=log, timeout=timeout, max_rss_gb=args.max_rss_gb, env=env)


def failed_run(child: dict[str, Any], project: Path, log: Path) -> dict[str, Any]:
    """What a run that did not finish got through, from the Dagster instance."""
    out = {
        "wall": child["wall"],
        "rc": child["rc"],
        "killed": child["killed"],
        "peak_rss_mb": child["peak_rss_mb"],
        "log": str(log),
    }
    try:
        fails = [
            ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.startswith("corpus: step")
        ]
        if fails:
            out["failure"] = fails[-1].removeprefix("corpus: ")[:300]
    except OSError:
        pass
    t0 = child["started"]
    out["rss_timeline_mb"] = [
        (round(t - t0), round(r / 1024)) for i, (t, r) in enumerate(child["samples"]) if i % 100 == 0
    ]
    try:
        st = step_stats(project)
        out["steps_done"] = [
            {"step": s["step"], "seconds": round(s["end"] - s["start"], 3)} for s in st["steps"]
        ]
        out["died_in"] = st["unfinished"]
    except Exception as e:  # noqa: BLE001 - no run recorded at all
        out["steps_error"] = f"{type(e).__name__}: {e}"
    return out


def run_baseline(project: Path, info: dict[str, Any], args: argparse.Namespace, res: dict[str, Any]) -> None:
    name = scale_name(info["scale"])
    logs = project / "logs"
    timeout = args.max_minutes * 60 if args.max_minutes else None
    say(f"[{name}] baseline")
    bjson = project / "baseline.json"
    b = run_child(
        [PY, str(BENCH / "baseline.py"), "--project", str(project), "--json", str(bjson)],
        cwd=REPO,
        log=logs / "baseline.log",
        timeout=timeout,
        max_rss_gb=args.max_rss_gb,
    )
    if b["rc"] == 0:
        bcounts = json.loads(bjson.read_text())
        res["baseline"] = {
            "wall": b["wall"],
            "peak_rss_mb": b["peak_rss_mb"],
            "words_per_s": round(bcounts["words"] / b["wall"]) if b["wall"] else None,
            "check": compare(info, bcounts),
        }
        cold = res["runs"].get("cold", {})
        if "stages" in cold:
            res["ratio_cold_to_baseline"] = round(cold["wall"] / b["wall"], 2)
            core = sum(cold["stages"][k]["seconds"] for k in ("parse", "load", "nlp"))
            res["ratio_parse_load_nlp_to_baseline"] = round(core / b["wall"], 2)
    else:
        res["baseline"] = {
            "wall": b["wall"],
            "rc": b["rc"],
            "error": f"{b['killed'] or 'failed'}; see {logs / 'baseline.log'}",
        }


def bench_scale(scale: float, args: argparse.Namespace) -> dict[str, Any]:
    name = scale_name(scale)
    project = (args.out / name).resolve()
    logs = project / "logs"
    say(f"[{name}] generating corpus in {project}")
    t = time.perf_counter()
    info = generate(project, scale)
    gen_wall = time.perf_counter() - t
    logs.mkdir(parents=True, exist_ok=True)
    reset(project)
    res: dict[str, Any] = {
        "scale": scale,
        "corpus": {
            k: info[k]
            for k in (
                "counts",
                "files",
                "bytes",
                "words_generated_own",
                "documents",
                "planted_units",
                "planted_units_not_own",
                "decoys",
            )
        },
        "generate_seconds": round(info.get("generate_seconds", gen_wall), 2),
        "runs": {},
    }
    if args.duckdb_memory_limit:
        res["variant"] = f"variant: CORPUS_DUCKDB_MEMORY_LIMIT={args.duckdb_memory_limit} (default 1GB)"
        res["variant_short"] = f"DuckDB memory limit {args.duckdb_memory_limit}"

    say(f"[{name}] cold corpus run")
    child = corpus_run(project, logs / "cold.log", args)
    if child["rc"] != 0:
        res["runs"]["cold"] = failed_run(child, project, logs / "cold.log")
        why = child["killed"] or f"exit status {child['rc']}"
        res["error"] = (
            f"cold run did not complete ({why}) after {child['wall']:.0f} s, peak RSS {child['peak_rss_mb']:,.0f} MB; see {logs / 'cold.log'}"
        )
        say(f"[{name}] {res['error']}")
        if not args.no_baseline:
            run_baseline(project, info, args, res)
        return res
    counts = warehouse_counts(project)
    words = counts["words"]
    res["words"] = words
    res["runs"]["cold"] = stage_table(child, step_stats(project), words)
    res["check_cold"] = compare(info, counts)
    say(
        f"[{name}] cold: {child['wall']:.1f}s, peak {child['peak_rss_mb']:.0f} MB, exact counts: {res['check_cold']['exact']}"
    )
    if not args.no_baseline:
        run_baseline(project, info, args, res)

    if "nochange" in args.runs:
        say(f"[{name}] no-change re-run")
        child = corpus_run(project, logs / "nochange.log", args)
        res["runs"]["nochange"] = (
            stage_table(child, step_stats(project), words)
            if child["rc"] == 0
            else failed_run(child, project, logs / "nochange.log")
        )

    if "newfile" in args.runs:
        say(f"[{name}] re-run after one new file")
        delta = extra_post(project, 0)
        child = corpus_run(project, logs / "newfile.log", args)
        if child["rc"] == 0:
            res["runs"]["newfile"] = stage_table(child, step_stats(project), words + int(delta["words"]))
            res["runs"]["newfile"]["new_file_words"] = delta["words"]
            res["check_newfile"] = compare(merge_expected(info, delta), warehouse_counts(project))
        else:
            res["runs"]["newfile"] = failed_run(child, project, logs / "newfile.log")

    say(f"[{name}] query latency")
    res["queries"] = query_latency(project, args.repeats)
    res["queries"]["cli: corpus search 'from scratch'"] = cli_latency(
        project, ["search", "from scratch"], 3, logs / "search.log"
    )
    return res


# --------------------------------------------------------------------------- start-up, profile


def dagster_startup(repeats: int = 3) -> dict[str, Any]:
    out = {}
    for label, code in (
        ("python -c pass", "pass"),
        ("import dagster", "import dagster"),
        ("import pipelines.definitions (code location)", "import pipelines.definitions"),
    ):
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run([PY, "-c", code], cwd=REPO, check=True, capture_output=True)  # noqa: S603
            ts.append(time.perf_counter() - t)
        out[label] = round(statistics.median(ts), 3)
    return out


def profile(scale: float, args: argparse.Namespace, top: int = 30) -> dict[str, Any]:
    name = scale_name(scale)
    project = (args.out / name).resolve()
    generate(project, scale)
    reset(project)
    prof = project / "logs" / "cold.prof"
    prof.parent.mkdir(parents=True, exist_ok=True)
    say(f"[{name}] cold run under cProfile")
    r = run_child(
        [
            PY,
            "-m",
            "cProfile",
            "-o",
            str(prof),
            "-m",
            "pipelines.cli",
            "--project",
            str(project),
            "run",
            "--offline",
        ],
        cwd=REPO,
        log=project / "logs" / "profile.log",
    )
    st = pstats.Stats(str(prof))
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(file)}:{line}({fn})",
                "calls": nc,
                "tottime": round(tt, 3),
                "cumtime": round(ct, 3),
            }
        )
    by_tot = sorted(rows, key=lambda r: -r["tottime"])[:top]
    ours = [r for r in rows if r["function"].startswith("pipelines/")]
    by_cum = sorted(ours, key=lambda r: -r["cumtime"])[:top]
    return {
        "scale": scale,
        "wall": r["wall"],
        "profiled_seconds": round(total, 2),
        "top_tottime": by_tot,
        "top_cumtime_pipelines": by_cum,
    }


def _short(file: str) -> str:
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(ln.split()[1])
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    versions = {}
    for pkg in ("dagster", "duckdb", "spacy", "polars", "numpy", "pyarrow"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "-"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)



def write_results_md(path: Path, results_dir: Path) -> None:
    results = []
    for p in sorted(results_dir.glob("x*.json"), key=lambda p: (float(p.stem[1:].split("+")[0]), p.stem)):
        results.append(json.loads(p.read_text()))
    meta_p = results_dir / "meta.json"
    meta = (
        json.loads(meta_p.read_text())
        if meta_p.exists()
        else {"machine": machine(), "date": datetime.now(UTC).date().isoformat()}
    )
    prof_p = results_dir / "profile.json"
    prof = json.loads(prof_p.read_text()) if prof_p.exists() else None
    body = render(results, meta, prof)
    if path.exists():
        old = path.read_text()
        if BEGIN in old and END in old:
            head, rest = old.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
            return
    path.write_text(f"# Benchmark results\n\n{BEGIN}\n{body}\n{END}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated scales (1 = the profile's ~553K words)")
    ap.add_argument(
        "--out", type=Path, default=BENCH / "out", help="where generated projects go (git-ignored)"
    )
    ap.add_argument("--results", type=Path, default=BENCH / "results", help="per-scale results JSON")
    ap.add_argument("--results-md", type=Path, default=BENCH / "RESULTS.md")
    ap.add_argument("--repeats", type=int, default=7, help="timed repetitions per query")
    ap.add_argument(
        "--profile", type=float, default=None, metavar="SCALE", help="also profile a cold run at this scale"
    )
    ap.add_argument(
        "--max-minutes", type=float, default=None, help="kill a corpus run after this long (reported)"
    )
    ap.add_argument(
        "--max-rss-gb",
        type=float,
        default=12.0,
        help="kill a run whose process tree holds more than this (reported); 0 = no cap",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline script")
    ap.add_argument(
        "--runs", default="cold,nochange,newfile", help="which runs (the cold run always happens)"
    )
    ap.add_argument(
        "--duckdb-memory-limit",
        default=None,
        metavar="SIZE",
        help="variant: run the pipeline with CORPUS_DUCKDB_MEMORY_LIMIT=SIZE (default 1GB); results get their own file",
    )
    args = ap.parse_args(argv)
    args.runs = {r.strip() for r in args.runs.split(",")}
    args.max_rss_gb = args.max_rss_gb or None
    args.results.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("CORPUS_PROJECT_DIR", None)
    meta = {
        "machine": machine(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "startup": dagster_startup(),
    }
    (args.results / "meta.json").write_text(json.dumps(meta, indent=1))
    ok = True
    for s in [float(x) for x in args.scales.split(",") if x.strip()]:
        res = bench_scale(s, args)
        suffix = f"+duckdb-{args.duckdb_memory_limit}" if args.duckdb_memory_limit else ""
        (args.results / f"{scale_name(s)}{suffix}.json").write_text(json.dumps(res, indent=1, default=str))
        write_results_md(args.results_md, args.results)
        checks = [res.get("check_cold"), res.get("check_newfile"), (res.get("baseline") or {}).get("check")]
        if res.get("error") or not all(c["exact"] for c in checks if c):
            ok = False
    if args.profile is not None:
        prof = profile(args.profile, args)
        (args.results / "profile.json").write_text(json.dumps(prof, indent=1))
        write_results_md(args.results_md, args.results)
    say(f"wrote {args.results_md}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
