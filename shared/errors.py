"""Errors for input that parses but cannot be used: dead-lettered, never fatal.

The pure cores raise them; the runners dead-letter them.
"""

from __future__ import annotations

import base64
import traceback
from datetime import datetime

from pydantic import ValidationError

from shared.schemas import DeadLetter, DeadLetterReason


class Reject(Exception):
    """Input that cannot be used; ``reason`` (``DeadLetterReason``) is the dead letter's metric label.

    The agent turns a ``Reject`` into a dead letter with this reason; the stream goes on.
    """

    def __init__(self, reason: DeadLetterReason, detail: str = "") -> None:
        """Reject for ``reason``; ``detail`` says what in the input made it unusable."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class StageError(Exception):
    """A failure on one message that another process (an isolated stage's child) already classified.

    It carries the child's reason, whether it is a bug, the original exception's type and its text
    (with the traceback for a bug), so the dead letter reads as if the error had happened here.
    """

    def __init__(self, reason: DeadLetterReason, is_bug: bool, error_type: str, text: str) -> None:
        """Carry what the child classified: its reason, whether it is a bug, the type and the text."""
        super().__init__(text)
        self.reason = reason
        self.is_bug = is_bug
        self.error_type = error_type
        self.text = text


def describe(error: BaseException) -> tuple[DeadLetterReason, bool, str, str]:
    """(reason, is_bug, error type, text) of an error on one message: what a ``StageError`` carries."""
    reason, is_bug = classify(error)
    if isinstance(error, StageError):
        return error.reason, error.is_bug, error.error_type, error.text
    text = (
        "".join(traceback.format_exception(error))
        if is_bug
        else (str(error) or error.__class__.__name__)
    )
    return reason, is_bug, error.__class__.__name__, text


def make_dead_letter(
    *,
    service: str,
    reason: DeadLetterReason,
    error: BaseException,
    value: bytes,
    failed_at: datetime,
    key: bytes | None = None,
    source_topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    with_traceback: bool = False,
) -> DeadLetter:
    """Wrap one unusable message, its origin and the reason into a ``DeadLetter``."""
    error_type = error.error_type if isinstance(error, StageError) else error.__class__.__name__
    if isinstance(error, StageError):
        text = error.text  # already with the child's traceback when it was a bug
    elif with_traceback:
        text = "".join(traceback.format_exception(error))
    else:
        text = str(error) or error_type
    return DeadLetter(
        service=service,
        reason=reason,
        error_type=error_type,
        error=text[:20_000],
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        key_b64=base64.b64encode(key).decode("ascii") if key is not None else None,
        original_b64=base64.b64encode(value).decode("ascii"),
        failed_at=failed_at,
    )


def classify(error: BaseException) -> tuple[DeadLetterReason, bool]:
    """Map an exception raised on one message to (reason, is_a_bug).

    ``Reject`` carries its own reason; a pydantic ``ValidationError`` is ``invalid_schema`` (or
    ``invalid_json`` when the bytes were not JSON); anything else is a bug: ``internal_error``.
    """
    if isinstance(error, Reject):
        return error.reason, False
    if isinstance(error, StageError):
        return error.reason, error.is_bug
    if isinstance(error, ValidationError):
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return "invalid_json", False
        return "invalid_schema", False
    if isinstance(error, UnicodeDecodeError):
        return "not_utf8", False
    return "internal_error", True
