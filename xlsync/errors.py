"""Errors that end a command with a clear one-line message instead of a traceback."""

from __future__ import annotations

from pathlib import Path


class UnusableInput(Exception):
    """The input cannot be used at all (exit code 2): unreadable file, missing sheet or header."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = Path(path)
        self.message = message

    def line(self) -> str:
        return f"xlsync: {self.path}: {self.message}"


class IncompleteFile(UnusableInput):
    """The file looks half-written (a bad or truncated zip): worth retrying after a moment."""
