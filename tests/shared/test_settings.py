"""The shared settings' own parsing: workers per service (NEWS_RUN_WORKERS) and a worker's name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import RunSettings, ServiceSettings, parse_worker_count, parse_worker_counts


def test_workers_per_service_are_read_as_service_equals_count():
    assert parse_worker_count(" entities = 2 ") == ("entities", 2)
    assert parse_worker_counts("entities=2,alerts=3") == {"entities": 2, "alerts": 3}
    assert parse_worker_counts("entities=2,,entities=4,") == {"entities": 4}  # the last wins
    assert parse_worker_counts("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("entitis=2", "no service 'entitis' (one of clean, dedup, entities, stories, alerts)"),
        ("entities=0", "a service runs at least 1 worker"),
        ("entities=-1", "a service runs at least 1 worker"),
        ("entities", "is not SERVICE=N"),
        ("entities=two", "is not SERVICE=N"),
    ],
)
def test_an_unknown_service_a_count_below_one_or_no_count_is_refused_saying_which(text, says):
    with pytest.raises(ValueError) as error:
        parse_worker_count(text)
    assert str(error.value).startswith(f"'{text}'") and says in str(error.value)


def test_news_run_workers_is_read_from_the_environment_and_refused_when_wrong(monkeypatch):
    assert RunSettings().run_workers == {}
    monkeypatch.setenv("NEWS_RUN_WORKERS", "entities=2,alerts=2")
    assert RunSettings().run_workers == {"entities": 2, "alerts": 2}
    monkeypatch.setenv("NEWS_RUN_WORKERS", "entities=2,nope=1")
    with pytest.raises(ValidationError, match="no service 'nope'"):
        RunSettings()
    with pytest.raises(ValidationError, match="at least 1 worker"):
        RunSettings(run_workers={"entities": 0})


def test_a_worker_has_no_name_of_its_own_unless_newswatch_run_gives_it_one(monkeypatch):
    assert ServiceSettings().worker_name == ""
    monkeypatch.setenv("NEWS_WORKER_NAME", "entities-2")
    assert ServiceSettings().worker_name == "entities-2"
