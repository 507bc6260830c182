"""Errors the pure cores raise for input that parses but cannot be used (dead-lettered, never fatal)."""

from __future__ import annotations


class Reject(Exception):
    """Input that cannot be used; ``reason`` is a short snake_case word used as a metric label.

    The agent turns a ``Reject`` into a dead letter with this reason; the stream goes on.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
