"""A rule's examples: sentences that should fire and sentences that should not, read from YAML.

An examples file is written by an analyst (``services/alerts/examples/*.yaml``)::

    rule: troop_movement
    source: written            # where the text comes from (its licence is in SOURCES.md)
    fire:
      - text: "Russia sent about 100 troops to Caracas."
    silent:
      - text: "The sale of its gaming unit will leave the group with debt."
        why: business unit     # optional: the kind of hard negative

An item may be a bare string. ``services.alerts.classifier`` learns from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ExamplesError(ValueError):
    """An examples file that cannot be used; the message names the file and the item."""


@dataclass(frozen=True)
class Example:
    """One sentence, whether it should fire, and where it came from."""

    text: str
    fire: bool
    source: str = ""
    why: str = ""


@dataclass(frozen=True)
class Examples:
    """The examples of one rule, from one or more files, in file order."""

    items: tuple[Example, ...]
    files: tuple[Path, ...]
    digest: str  # of the files' content: a classifier trained on other examples is stale

    @property
    def texts(self) -> list[str]:
        """Every example's text, in order."""
        return [item.text for item in self.items]

    @property
    def labels(self) -> list[bool]:
        """Whether each example should fire, in order."""
        return [item.fire for item in self.items]


def read_examples(paths: Sequence[Path], *, rule: str) -> Examples:
    """Read and check a rule's examples files; raises :class:`ExamplesError` naming file and item."""
    items: list[Example] = []
    hashed = hashlib.sha256()
    seen: dict[str, str] = {}
    for path in paths:
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw)
        except OSError as error:
            raise ExamplesError(f"{path}: cannot read: {error}") from None
        except yaml.YAMLError as error:
            raise ExamplesError(f"{path}: not valid YAML: {error}") from None
        hashed.update(raw)
        for example in _examples_of(data, path, rule):
            key = " ".join(example.text.lower().split())
            if key in seen:
                raise ExamplesError(f"{path}: {example.text[:60]!r} is already in {seen[key]}")
            seen[key] = str(path)
            items.append(example)
    fire = sum(item.fire for item in items)
    if fire == 0 or fire == len(items):
        raise ExamplesError(
            f"rule {rule}: examples need sentences on both sides (fire {fire}, "
            f"silent {len(items) - fire}) in {', '.join(map(str, paths))}"
        )
    return Examples(tuple(items), tuple(paths), hashed.hexdigest()[:16])


def _examples_of(data: Any, path: Path, rule: str) -> list[Example]:
    if not isinstance(data, dict) or not ({"fire", "silent"} & set(data)):
        raise ExamplesError(f"{path}: needs 'fire:' and/or 'silent:' lists")
    unknown = set(data) - {"rule", "source", "fire", "silent", "licence", "license"}
    if unknown:
        raise ExamplesError(f"{path}: unknown keys {sorted(unknown)}")
    if data.get("rule") not in (None, rule):
        raise ExamplesError(f"{path}: examples of rule {data['rule']}, named by rule {rule}")
    default = str(data.get("source") or "")
    out: list[Example] = []
    for side, fire in (("fire", True), ("silent", False)):
        entries = data.get(side) or []
        if not isinstance(entries, list):
            raise ExamplesError(f"{path}: {side}: needs a list")
        for n, entry in enumerate(entries, 1):
            if isinstance(entry, str):
                entry = {"text": entry}
            text = entry.get("text") if isinstance(entry, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise ExamplesError(f"{path}: {side} #{n}: needs a non-empty text")
            unknown_keys = set(entry) - {"text", "source", "why"}
            if unknown_keys:
                raise ExamplesError(f"{path}: {side} #{n}: unknown keys {sorted(unknown_keys)}")
            out.append(
                Example(
                    " ".join(text.split()),
                    fire,
                    str(entry.get("source") or default),
                    str(entry.get("why") or ""),
                )
            )
    return out
