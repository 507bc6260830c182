"""What ``newswatch submit``, ``process`` and ``rules test`` read: files, folders, JSON lines or stdin, as the bytes of input-topic messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

INPUT_SUFFIXES = {".txt", ".html", ".htm", ".json", ".jsonl"}


def read_inputs(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Yield (origin, message bytes) for each article in files, folders or ``-`` (stdin).

    A folder gives the article files directly in it, not its subfolders (``seeds/`` keeps example
    payloads of other topics in subfolders that must not go onto the input topic).

    ``.txt`` is sent as it is (plain text, one article or a dump); ``.html``/``.htm`` is wrapped as
    ``{"html": ...}``; ``.json`` is one object; ``.jsonl`` is one object a line. Stdin holding JSON
    lines is read a line at a time, anything else as one plain-text article.
    """
    for arg in paths:
        if arg == "-":
            data = sys.stdin.buffer.read()
            lines = [ln for ln in data.splitlines() if ln.strip()]
            if lines and all(ln.lstrip().startswith(b"{") for ln in lines):
                for n, line in enumerate(lines, 1):
                    yield f"<stdin>:{n}", line
            else:
                yield "<stdin>", data
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
            )
        elif path.is_file():
            files = [path]
        else:
            raise SystemExit(f"newswatch: no such file or folder: {arg}")
        for file in files:
            yield from _read_file(file)


def _read_file(file: Path) -> Iterator[tuple[str, bytes]]:
    data = file.read_bytes()
    suffix = file.suffix.lower()
    if suffix in {".html", ".htm"}:
        # Pages come in many charsets: decode as trafilatura does (meta charset, then detection),
        # since a JSON message can only carry text.
        from trafilatura.utils import decode_file  # noqa: PLC0415 — only for HTML files: it is slow to import

        yield str(file), json.dumps({"html": decode_file(data)}).encode()
    elif suffix == ".jsonl":
        for n, line in enumerate(data.splitlines(), 1):
            if line.strip():
                yield f"{file}:{n}", line
    else:  # .txt, .json and anything named explicitly: as it is
        yield str(file), data
