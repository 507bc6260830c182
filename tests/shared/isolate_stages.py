"""Stages for tests/shared/test_isolate.py: a handler that misbehaves on demand, and one that cannot be built."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from shared.errors import Reject
from shared.schemas import CleanArticle, Message, RawArticle
from shared.settings import ServiceSettings
from shared.stage import Stage
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES


def build(settings, store, metrics):
    started = os.getpid()

    def handle(value: bytes) -> list[Message]:
        if value == b"spin":
            while True:  # a handler that never returns, like a catastrophic regex
                pass
        if value == b"sleep":
            time.sleep(60)
        if value == b"die":
            os._exit(9)
        if value == b"pid":
            return [CleanArticle(article_id=str(started), text="pid", ingested_at=datetime.now(UTC))]
        raw = RawArticle.model_validate_json(value)
        if raw.text == "boom":
            raise KeyError("a bug in the core")
        if raw.text == "reject":
            raise Reject("empty_after_cleaning", "nothing left")
        return [CleanArticle(article_id=raw.id or "x", text=raw.text or "", ingested_at=datetime.now(UTC))]

    return handle


def build_broken(settings, store, metrics):
    raise OSError("model not installed")


MISBEHAVING = Stage("clean", RAW_ARTICLES, (CLEAN_ARTICLES,), ServiceSettings, build)
BROKEN = Stage("clean", RAW_ARTICLES, (CLEAN_ARTICLES,), ServiceSettings, build_broken)
