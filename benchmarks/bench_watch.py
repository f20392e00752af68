"""Time from a save to the applied sync, for registers of 1,000 and 10,000 rows.

    python benchmarks/bench_watch.py [--sizes 1000,10000]

The watcher runs in a background thread with native file events. A save is made the way
Excel makes it (a temporary file renamed over the register). Reported: the time until the
watcher has applied and recorded the sync, and that time minus the debounce wait, for a
save that changes nothing xlsync reads (the document properties, as every save changes
them) or, with `--edit`, for a save that renames a customer (the sync writes hints and
冲突). For a save the sync writes back, a second line ("written") gives the time until the
register carried the sync's result: the file replaced, before the history is recorded.
Target: 0.4 s beyond the debounce at 10,000 rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from _common import register_of  # also puts the repo root on sys.path

from xlsync.register.reader import read_register
from xlsync.sync import sync
from xlsync.watch import WatchConfig, Watcher

AS_OF = dt.date(2026, 11, 1)


def prepare_save(path: Path, number: int, names: list[str] | None) -> Path:
    """The package an Excel-style save of `path` writes, as a temporary file beside it (the
    clock starts when it is renamed over the register, as Excel's save ends). Without
    `names`, only the document properties change (every save changes them); with them, one
    customer is renamed to another's name: a new duplicate claim, so the sync writes hints
    and 冲突."""
    temp = path.parent / f"{number:08X}"
    edited = names is None
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = data.replace(b"</cp:coreProperties>",
                                    f"<!-- save {number} --></cp:coreProperties>".encode())  # fmt: skip
            elif names and not edited and info.filename in _TEXT_PARTS:
                data, edited = _rename(data, number, names)
            out.writestr(info, data)
    if not edited:
        raise SystemExit(f"{path}: no customer name found to edit")
    return temp


_TEXT_PARTS = ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml")


def _rename(data: bytes, number: int, names: list[str]) -> tuple[bytes, bool]:
    """One name written once in the part (as UTF-8 or as character references, the way
    openpyxl writes it) replaced by another."""
    new = names[(len(names) // 2 + 3 * number) % len(names)].encode("ascii", "xmlcharrefreplace")
    for k in range(len(names)):
        name = names[(100 + 7 * number + k) % len(names)]
        for old in (name.encode(), name.encode("ascii", "xmlcharrefreplace")):
            if data.count(b">" + old + b"<") == 1:
                return data.replace(b">" + old + b"<", b">" + new + b"<"), True
    return data, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--edit", action="store_true", help="each save renames a customer")
    args = parser.parse_args()
    config = WatchConfig(debounce=0.4, settle=0.1, rescan=3600, scheduled=False)
    print(f"{'rows':>7} {'save->synced':>13} {'minus debounce':>15}  each save (s)")
    for size in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="xlsync-watch-"))
        try:
            path = work / "register.xlsx"
            shutil.copy(register_of(size), path)
            sync(path, AS_OF)  # ids and hints in place: later syncs only notice the save
            names = [r.customer for r in read_register(path).rows if r.customer]
            watcher = Watcher(work, config, today=lambda: AS_OF)
            stop = threading.Event()
            thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
            thread.start()
            while watcher.board is None:  # the start-up sync and its board
                time.sleep(0.05)
            times = []
            written = []
            for n in range(args.saves):
                before = len(watcher.syncs)
                temp = prepare_save(path, n, names if args.edit else None)
                saved = os.stat(temp).st_ino
                started = time.perf_counter()
                os.replace(temp, path)
                replaced = None  # when the sync's file took the save's place
                while len(watcher.syncs) == before:
                    if replaced is None and os.stat(path).st_ino != saved:
                        replaced = time.perf_counter()
                    time.sleep(0.005)
                done = time.perf_counter()
                times.append(done - started)
                if os.stat(path).st_ino != saved:
                    written.append((replaced or done) - started)
                time.sleep(0.5)
            stop.set()
            thread.join()
            median = statistics.median(times)
            each = " ".join(f"{t:.2f}" for t in times)
            print(f"{size:>7} {median:>12.2f}s {median - config.debounce:>14.2f}s  {each}")
            if written:
                median = statistics.median(written)
                each = " ".join(f"{t:.2f}" for t in written)
                print(f"{'written':>7} {median:>12.2f}s {median - config.debounce:>14.2f}s  {each}")
        finally:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
