"""The last lines of a tool's output or a log file, for broker errors."""

from __future__ import annotations

import os
from pathlib import Path


def tail_text(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def tail_file(path: Path, since: int = 0, lines: int = 40) -> str:
    """The last ``lines`` lines written to ``path`` after byte ``since`` (of its last 64 KiB)."""
    try:
        with open(path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            f.seek(max(end - 64 * 1024, since, 0))
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return "(missing)"
    return tail_text(text, lines) if text.strip() else "(nothing written by this start)"
