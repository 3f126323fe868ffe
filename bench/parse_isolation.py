"""What parsing in worker processes costs: a cold parse (empty parse cache) of a corpus folder in this
process (CORPUS_PARSE_WORKERS=0) and with 1 and 2 workers, each repeated; same snapshots checked.

    uv run python bench/parse_isolation.py ../shared/corpus [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.core.ingest import scan_and_parse  # noqa: E402
from pipelines.core.rawstore import RawStore  # noqa: E402


def cold_parse(raw: Path, workers: int) -> tuple[float, list[tuple]]:
    os.environ["CORPUS_PARSE_WORKERS"] = str(workers)
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        parsed = scan_and_parse(RawStore(raw), cache_dir=Path(cache), keep_results=False)
        seconds = time.perf_counter() - start
    return seconds, sorted((p.snapshot.path, p.snapshot.status, p.snapshot.format, p.snapshot.error) for p in parsed)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        shutil.copytree(args.corpus, raw / "inbox")
        files = sum(1 for p in (raw / "inbox").rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in (raw / "inbox").rglob("*") if p.is_file())
        print(f"{files} files, {size / 1e6:.1f} MB; cold parse, keep_results=False, median of {args.repeat}")
        reference = None
        for workers in (0, 1, 2):
            times = []
            for _ in range(args.repeat):
                seconds, snaps = cold_parse(raw, workers)
                times.append(seconds)
                if reference is None:
                    reference = snaps
                elif snaps != reference:
                    print(f"  workers={workers}: snapshots differ from in-process parsing")
                    return 1
            label = "in-process (no isolation)" if workers == 0 else f"{workers} worker process(es)"
            print(f"  {label:28s} {statistics.median(times):6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
