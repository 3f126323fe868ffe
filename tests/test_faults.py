"""Faults mid-run: kill -9 during the warehouse write, a full disk while a snapshot lands, two runs at once.

Network faults (connection reset, timeout, 429 storms, DNS failure) are covered by tests/test_fetch_http.py,
test_fetch_youtube.py, test_fetch_feeds.py, test_fetch_all.py and test_fetch_end_to_end.py.
docs/reliability.md has the table of what was tried and what happened.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import child_env
from conftest import make_offline_project as make_project
from conftest import start_corpus_run as start_run

from pipelines.cli import main
from pipelines.core import rawstore as rawstore_module
from pipelines.core.rawstore import RawStore

CORE_TABLES = ("sources", "snapshots", "parse_issues", "documents", "segments", "tweets")
NEW_TWEET_CSV = "tweet_id,text,created_at\n1000000000000000042,A brand new post dropped between runs,2023-05-05 10:00:00\n"


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended ({proc.returncode}) before the fault point:\n{tail(log)}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"fault point not reached in {timeout}s:\n{tail(log)}")
        time.sleep(0.05)


@dataclass(frozen=True)
class State:
    sha: str  # of the published file
    counts: dict[str, int]  # rows per core table
    recorded: dict[str, int]  # rows per table as its publish recorded them in _publish_info


def published(root: Path) -> State:
    db = root / "warehouse" / "corpus.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CORE_TABLES}  # type: ignore[index]  # noqa: S608
        recorded = dict(con.execute("SELECT table_name, row_count FROM _publish_info").fetchall())
    finally:
        con.close()
    return State(hashlib.sha256(db.read_bytes()).hexdigest(), counts, recorded)


def run_in_process(root: Path) -> int:
    cwd = Path.cwd()
    try:
        return main(["--project", str(root), "run", "--offline"])
    finally:
        os.chdir(cwd)


# ---- (a) kill -9 while the warehouse is written; (c) a second run meanwhile ---------------------------


@pytest.mark.slow
def test_kill_9_during_the_warehouse_write_keeps_the_previous_state_and_the_next_run_repairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path)
    assert run_in_process(root) == 0
    before = published(root)
    assert before.counts["documents"] == 6
    assert {t: before.recorded[t] for t in CORE_TABLES} == before.counts
    # New input: a run that got through would change the counts.
    (root / "raw" / "inbox" / "dumps" / "new.csv").write_text(NEW_TWEET_CSV)

    # 1. The run SIGKILLs itself right after `documents` is committed in work.duckdb (tables half rebuilt).
    log = tmp_path / "runs.log"
    proc = start_run(root, log, CORPUS_FAULT="after_table:documents:kill")
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, tail(log)
    assert published(root) == before

    # 2. kill -9 from outside while the new file is being copied beside the published one.
    flag = tmp_path / "at-fault-point"
    proc = start_run(root, log, CORPUS_FAULT="publish:mid_copy:sleep", CORPUS_FAULT_FLAG=str(flag), CORPUS_FAULT_SLEEP="120")
    try:
        wait_for(flag, proc, log)
        partial = list((root / "warehouse").glob(".publish-*.duckdb"))
        assert len(partial) == 1 and 0 < partial[0].stat().st_size < (root / "warehouse" / "work.duckdb").stat().st_size
        # (c) meanwhile a second run refuses at once, with a clear message and exit code 3
        capsys.readouterr()
        assert run_in_process(root) == 3
        err = capsys.readouterr().err
        assert "another corpus run is writing the warehouse" in err and f"pid {proc.pid}" in err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert published(root) == before  # readers still get the previous complete state
    assert partial[0].exists()  # the dead run's temp copy is still there ...

    # 3. The next run repairs: work.duckdb recovers, the dead temp file goes, the new post lands.
    assert run_in_process(root) == 0
    after = published(root)
    assert not list((root / "warehouse").glob(".publish-*"))
    assert after.counts["documents"] == before.counts["documents"] + 1
    assert after.counts["tweets"] == before.counts["tweets"] + 1
    assert {t: after.recorded[t] for t in CORE_TABLES} == after.counts


def test_a_second_run_refuses_while_another_holds_the_writer_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from pathlib import Path
                from pipelines.core.warehouse import writer_lock
                with writer_lock(Path(sys.argv[1])):
                    print("locked", flush=True)
                    time.sleep(60)
                """
            ),
            str(root / "warehouse"),
        ],
        env=child_env(),
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        t0 = time.monotonic()
        assert run_in_process(root) == 3
        assert time.monotonic() - t0 < 10  # refuses at once, does not wait
        err = capsys.readouterr().err
        assert f"another corpus run is writing the warehouse (pid {holder.pid} since" in err
        assert "wait for it to finish and retry" in err
        assert not (root / "warehouse" / "corpus.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()


# ---- (b) disk full while a snapshot lands ----------------------------------------------------------------


class FullDisk:
    """A file object that takes ``room`` bytes, then fails like a full disk (after a partial write)."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.real.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def store_files(store: RawStore) -> list[Path]:
    return sorted(p for p in store.store.rglob("*") if p.is_file())


@pytest.fixture
def store_with_one_file(tmp_path: Path) -> tuple[RawStore, bytes]:
    store = RawStore(tmp_path / "raw")
    store.land_bytes(b"an earlier snapshot", "earlier.txt", origin="https://example.org/earlier", fetcher="page")
    return store, store.manifest_path.read_bytes()


@pytest.mark.parametrize("how", ["land_bytes", "import_file"])
def test_disk_full_mid_snapshot_leaves_no_partial_file_and_the_manifest_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_with_one_file: tuple[RawStore, bytes], how: str
) -> None:
    store, manifest = store_with_one_file
    files = store_files(store)
    body = os.urandom(3 * rawstore_module.CHUNK + 123)  # import_file writes it in 4 chunks
    src = tmp_path / "elsewhere" / "big.bin.txt"
    src.parent.mkdir()
    src.write_bytes(body)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k), room=rawstore_module.CHUNK + 10))
    with pytest.raises(OSError) as e:
        if how == "land_bytes":
            store.land_bytes(body, "big.bin.txt", origin="https://example.org/big", fetcher="page")
        else:
            store.import_file(src)
    assert e.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert store_files(store) == files  # nothing partial in raw/store
    assert list((store.root / ".tmp").iterdir()) == []  # the partial temp file was removed
    assert store.manifest_path.read_bytes() == manifest  # no event for bytes that did not land
    assert [e.origin for e in store.events()] == ["https://example.org/earlier"]
    # once there is room again the same snapshot lands whole
    event = store.land_bytes(body, "big.bin.txt", origin="https://example.org/big", fetcher="page") if how == "land_bytes" else store.import_file(src)
    assert (store.root / event.path).read_bytes() == body  # type: ignore[operator]


def test_disk_full_at_fsync_leaves_nothing(monkeypatch: pytest.MonkeyPatch, store_with_one_file: tuple[RawStore, bytes]) -> None:
    store, manifest = store_with_one_file
    files = store_files(store)

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        store.land_bytes(b"x" * 5000, "late.txt", origin="https://example.org/late", fetcher="page")
    monkeypatch.undo()
    assert store_files(store) == files
    assert list((store.root / ".tmp").iterdir()) == []
    assert store.manifest_path.read_bytes() == manifest


IMPORT_UNDER_RLIMIT = """
import resource, signal, sys
from pathlib import Path
from pipelines.core.rawstore import RawStore
# Python ignores SIGXFSZ (the write fails with EFBIG); SIG_DFL makes the kernel kill us mid-write instead.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN if sys.argv[3] == "ignore" else signal.SIG_DFL)
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
RawStore(Path(sys.argv[1])).import_file(Path(sys.argv[2]))
"""


@pytest.mark.parametrize("sigxfsz", ["default", "ignore"])
def test_a_real_write_limit_mid_import(tmp_path: Path, store_with_one_file: tuple[RawStore, bytes], sigxfsz: str) -> None:
    """The kernel refuses the write past RLIMIT_FSIZE: by default SIGXFSZ kills the process mid-write
    (like a crash), else the write fails with EFBIG (like a full disk). Either way nothing half-written
    is ever listed as a raw file and the manifest is intact."""
    store, manifest = store_with_one_file
    files = store_files(store)
    src = tmp_path / "elsewhere" / "big-notes.txt"
    src.parent.mkdir()
    src.write_bytes(b"words " * 700_000)  # ~4 MB
    limit = 1 << 20
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_UNDER_RLIMIT, str(store.root), str(src), sigxfsz, str(limit)],
        env=child_env(),
        capture_output=True,
        timeout=60,
    )
    if sigxfsz == "default":
        assert proc.returncode == -signal.SIGXFSZ
        leftovers = list((store.root / ".tmp").iterdir())
        assert len(leftovers) == 1 and leftovers[0].stat().st_size == limit  # the crash's partial temp file ...
        assert all(".tmp" not in p.parts for p in store.files())  # ... is never read as a raw file
    else:
        assert proc.returncode == 1 and b"File too large" in proc.stderr
        assert list((store.root / ".tmp").iterdir()) == []
    assert store_files(store) == files
    assert store.manifest_path.read_bytes() == manifest
    assert store.import_file(src).bytes == src.stat().st_size


def test_a_manifest_line_cut_by_a_crash_damages_only_itself(store_with_one_file: tuple[RawStore, bytes]) -> None:
    store, _ = store_with_one_file
    with store.manifest_path.open("ab") as f:
        f.write(b'{"status": "ok", "origin": "https://example.org/cut", "fetch')  # the disk filled mid-line
    store.land_bytes(b"after the crash", "after.txt", origin="https://example.org/after", fetcher="page")
    assert [e.origin for e in store.events()] == ["https://example.org/earlier", "https://example.org/after"]
    assert store.manifest_path.read_bytes().endswith(b"\n")
