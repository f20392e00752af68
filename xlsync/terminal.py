"""The terminal people read: one rich Console for every command.

Its markup is off. Customer names, phones, file names and cell values come from
registers, from the web's search box or from a manager's note, and rich would read
`[/]` or `[red]` in them as its own tags (a traceback, or text that silently vanishes).
The command line's few styled words are given as styles (`style=`, `Text.assemble`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(**options: Any) -> Console:
    """A Console that prints every text as written. rich is imported here, when a command
    prints, not for `--help`."""
    from rich.console import Console

    return Console(markup=False, **options)
