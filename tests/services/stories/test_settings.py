"""stories' settings: the windows as the core takes them, and a single article's never the longer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.stories.settings import StoriesSettings


def test_the_windows_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_STORIES_WINDOW_DAYS", "20")
    monkeypatch.setenv("NEWS_STORIES_SINGLE_WINDOW_DAYS", "2.5")
    settings = StoriesSettings()
    assert settings.window == timedelta(days=20)
    assert settings.single_window == timedelta(days=2, hours=12)


def test_a_single_article_window_over_the_story_window_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWS_STORIES_WINDOW_DAYS", "5")
    monkeypatch.setenv("NEWS_STORIES_SINGLE_WINDOW_DAYS", "7")
    with pytest.raises(ValidationError, match="SINGLE_WINDOW_DAYS must be at most"):
        StoriesSettings()
