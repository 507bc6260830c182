"""Stages for tests/shared/test_isolate.py and test_batch.py: a handler that misbehaves on demand (alone or in batches), and ones that cannot be built."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from shared.errors import Reject
from shared.schemas import CleanArticle, Message, RawArticle
from shared.settings import ServiceSettings
from shared.stage import Batching, BatchResult, Stage
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES


def build(settings, store=None):
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
            return [
                CleanArticle(article_id=str(started), text="pid", ingested_at=datetime.now(UTC))
            ]
        raw = RawArticle.model_validate_json(value)
        if raw.text == "boom":
            raise KeyError("a bug in the core")
        if raw.text == "reject":
            raise Reject("empty_after_cleaning", "nothing left")
        return [
            CleanArticle(
                article_id=raw.id or "x", text=raw.text or "", ingested_at=datetime.now(UTC)
            )
        ]

    return handle


class Batched:
    """``handle`` alone, or over a batch: what rejects one value (bad JSON, ``Reject``) answers that
    value alone; a bug (``boom``) or a misbehaving value (``spin``, ``die``) fails the whole batch,
    as spaCy's ``nlp.pipe`` over a batch would."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.calls: list[int] = []  # the size of each batch handled (inline use only)

    def __call__(self, value: bytes) -> list[Message]:
        return self.handle(value)

    def batch(self, values) -> BatchResult:
        self.calls.append(len(values))
        results: BatchResult = []
        for value in values:
            try:
                results.append(self.handle(value))
            except (ValueError, Reject) as error:  # pydantic's ValidationError is a ValueError
                results.append(error)
        return results


def build_batched(settings, store=None):
    return Batched(build(settings, store))


def build_broken(settings, store=None):
    raise OSError("model not installed")


def batching(settings) -> Batching:
    return Batching(size=4, within_s=0.05, max_bytes=1 << 20, budget_s=1.0)


MISBEHAVING = Stage(
    "clean",
    RAW_ARTICLES,
    (CLEAN_ARTICLES,),
    ServiceSettings,
    "tests.shared.worker.isolate_stages:build",
)
BROKEN = Stage(
    "clean",
    RAW_ARTICLES,
    (CLEAN_ARTICLES,),
    ServiceSettings,
    "tests.shared.worker.isolate_stages:build_broken",
)
BATCHED = Stage(
    "clean",
    RAW_ARTICLES,
    (CLEAN_ARTICLES,),
    ServiceSettings,
    "tests.shared.worker.isolate_stages:build_batched",
    batching=batching,
)
# Declares batches but builds a handler without ``batch``: the stage cannot run.
NO_BATCH = Stage(
    "clean",
    RAW_ARTICLES,
    (CLEAN_ARTICLES,),
    ServiceSettings,
    "tests.shared.worker.isolate_stages:build",
    batching=batching,
)
