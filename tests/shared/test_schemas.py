"""Message models: frozen, versioned, tolerant of unknown fields, strict about what they need."""

import base64
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.errors import Reject, classify, make_dead_letter
from shared.schemas import CleanArticle, DeadLetter, RawArticle


def test_raw_article_needs_text_or_html():
    with pytest.raises(ValidationError, match="needs 'text' or 'html'"):
        RawArticle.model_validate({"id": "x", "title": "only a title"})
    assert RawArticle.model_validate({"html": "<p>hi</p>"}).html == "<p>hi</p>"


def test_models_are_frozen_and_versioned():
    raw = RawArticle(text="Troops arrived.")
    assert raw.schema_version == 1
    with pytest.raises(ValidationError):
        raw.text = "changed"  # type: ignore[misc]


def test_unknown_fields_are_ignored_so_producers_can_add_optional_fields():
    raw = RawArticle.model_validate_json(b'{"text": "a", "added_later": 1}')
    assert not hasattr(raw, "added_later")


def test_a_newer_schema_version_is_refused():
    with pytest.raises(ValidationError):
        RawArticle.model_validate({"text": "a", "schema_version": 2})


def test_messages_round_trip_through_their_wire_bytes():
    article = CleanArticle(
        article_id="a1", text="Body.", title="T", ingested_at=datetime(2019, 3, 28, tzinfo=UTC)
    )
    assert CleanArticle.model_validate_json(article.to_bytes()) == article


def test_dead_letter_keeps_the_original_bytes_and_the_reason():
    original = b"\xff\xfe not utf-8"
    letter = make_dead_letter(
        service="clean",
        reason="not_utf8",
        error=Reject("not_utf8", "byte 0xff"),
        value=original,
        key=b"k",
        source_topic="news.raw-article.v1",
        partition=0,
        offset=7,
        failed_at=datetime.now(UTC),
    )
    again = DeadLetter.model_validate_json(letter.to_bytes())
    assert again.original == original
    assert base64.b64decode(again.key_b64 or "") == b"k"
    assert (again.reason, again.error_type, again.offset) == ("not_utf8", "Reject", 7)


@pytest.mark.parametrize(
    ("raw", "reason", "bug"),
    [(b"{not json", "invalid_json", False), (b'{"id": 1}', "invalid_schema", False)],
)
def test_validation_errors_are_classified_by_cause(raw, reason, bug):
    with pytest.raises(ValidationError) as info:
        RawArticle.model_validate_json(raw)
    assert classify(info.value) == (reason, bug)


def test_unexpected_exceptions_are_internal_errors_with_traceback():
    try:
        raise KeyError("boom")
    except KeyError as error:
        assert classify(error) == ("internal_error", True)
        letter = make_dead_letter(
            service="dedup",
            reason="internal_error",
            error=error,
            value=b"x",
            failed_at=datetime.now(UTC),
            with_traceback=True,
        )
    assert "Traceback" in letter.error and "KeyError" in letter.error
