"""Run LibreOffice headless on a register, the way a rep's LibreOffice would save it.

Each call uses its own throw-away user profile (so parallel runs and a rep's own profile
never clash), reads nothing from stdin, and is killed with its process group on timeout.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

DEFAULT_TIMEOUT = 180.0
# CSV export options (LibreOffice >= 7.2): comma, double quote, UTF-8, from line 1,
# default cell formats, default language, quoted fields not as text, detect special
# numbers, cell contents *as shown*, values not formulas, keep spaces, and -1 = every
# sheet into its own file `<name>-<sheet>.csv`.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"


class OfficeError(RuntimeError):
    """LibreOffice is missing, timed out or wrote nothing."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_available() -> bool:
    return soffice_path() is not None


def _convert(src: Path, out_dir: Path, target: str, timeout: float) -> None:
    soffice = soffice_path()
    if soffice is None:
        raise OfficeError("LibreOffice (soffice) is not installed")
    src = Path(src).resolve()
    out_dir = Path(out_dir).resolve()
    if out_dir == src.parent:
        # --convert-to writes <stem>.<ext> into out_dir: it would replace the source.
        raise ValueError("out_dir must not be the folder of the source file")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlsync-lo-profile-") as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(src),
        ]
        env = {**os.environ, "HOME": profile, "SAL_USE_VCLPLUGIN": "svp"}
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: a timeout kills all of it
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise OfficeError(f"soffice timed out after {timeout:.0f}s on {src.name}") from None
    if proc.returncode != 0:
        raise OfficeError(
            f"soffice exited {proc.returncode} on {src.name}: "
            f"{(err or out).decode('utf-8', 'replace').strip()[:500]}"
        )


def libreoffice_roundtrip(src: Path, out_dir: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Open `src` in LibreOffice and save it as `out_dir/<stem>.xlsx`; return that path."""
    _convert(src, out_dir, XLSX_FILTER, timeout)
    out = Path(out_dir).resolve() / (Path(src).stem + ".xlsx")
    if not out.is_file():
        raise OfficeError(f"soffice wrote no {out.name} into {out_dir}")
    return out


def libreoffice_values(
    path: Path, *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, list[list[str]]]:
    """Every sheet of `path` as LibreOffice shows it: {sheet name: rows of cell texts}.

    Formulas show the values LibreOffice has for them, dates their displayed form.
    Trailing empty cells and rows are dropped.
    """
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        names = list(workbook.sheet_names)
    finally:
        workbook.close()
    with tempfile.TemporaryDirectory(prefix="xlsync-lo-csv-") as tmp:
        _convert(path, Path(tmp), CSV_FILTER, timeout)
        stem = Path(path).stem
        result: dict[str, list[list[str]]] = {}
        for name in names:
            csv_path = Path(tmp) / f"{stem}-{name}.csv"
            if not csv_path.is_file():
                if len(names) == 1 and (Path(tmp) / f"{stem}.csv").is_file():
                    csv_path = Path(tmp) / f"{stem}.csv"
                else:
                    found = sorted(p.name for p in Path(tmp).iterdir())
                    raise OfficeError(f"no CSV for sheet {name!r}; soffice wrote {found}")
            with csv_path.open(encoding="utf-8-sig", newline="") as fh:
                rows = [_trim(row) for row in csv.reader(fh)]
            while rows and not rows[-1]:
                rows.pop()
            result[name] = rows
    return result


def _trim(row: list[str]) -> list[str]:
    while row and row[-1] == "":
        row.pop()
    return row
