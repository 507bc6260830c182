"""``newswatch stories``: the stories as they stand (news.story-record.v1), largest first; with --follow, each one as it grows.

A story's records are keyed by its id, so the latest record of a story is the story as it stands.
The command reads the topic from the start (no consumer group: it shows state, not news), prints
the open stories, then with --follow one line each time an article opens or joins a story. The
formatting (``format_story``, ``format_growth``) needs no Kafka.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli.alerts import SHORT_ID, caught_up, open_consumer
from shared.schemas import StoryRecord
from shared.topics import STORY_RECORDS


def cmd_stories(args: argparse.Namespace) -> int:
    """Print the stories, largest first (``--top`` of them); ``--follow`` then prints each as it grows."""
    consumer = open_consumer(args, [STORY_RECORDS], group=None)
    if consumer is None:
        return 1
    latest: dict[str, StoryRecord] = {}
    try:
        for record in _records(consumer, until_caught_up=True):
            latest[record.story_id] = record
        for story in largest(latest.values(), args.top):
            print(story.model_dump_json() if args.json else format_story(story), flush=True)
        if args.follow:
            for record in _records(consumer, until_caught_up=False):
                print(record.model_dump_json() if args.json else format_growth(record), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


def _records(consumer: Any, *, until_caught_up: bool) -> Any:
    while True:
        for message in consumer:
            try:
                yield StoryRecord.model_validate_json(message.value)
            except ValueError as error:
                print(
                    f"newswatch: unreadable story record at offset {message.offset}: {error}",
                    file=sys.stderr,
                )
        if until_caught_up and caught_up(consumer):
            return


def largest(stories: Any, top: int) -> list[StoryRecord]:
    """The ``top`` largest stories, then the most recent first among equals."""
    ranked = sorted(stories, key=lambda s: (-s.size, -s.last_seen.timestamp(), s.story_id))
    return ranked[:top] if top > 0 else ranked


def format_story(story: StoryRecord) -> str:
    """One story as it stands: size, sources, countries, first and last seen, its title."""
    sources = f"{len(story.sources)} source{'s' if len(story.sources) != 1 else ''}"
    countries = " ".join(story.countries) or "-"
    span = f"{story.first_seen:%Y-%m-%d %H:%M} → {story.last_seen:%Y-%m-%d %H:%M}"
    return (
        f"story {story.story_id[:SHORT_ID]} · {story.size} article{'s' if story.size != 1 else ''}"
        f" · {sources} · {countries} · {span}\n  {story.title or story.article_id}"
    )


def format_growth(record: StoryRecord) -> str:
    """An article opening a story ("+ NEW STORY") or joining one (with its similarity and the size now)."""
    title = record.article_title or record.article_id
    if record.status == "new":
        return f"+ NEW STORY {record.story_id[:SHORT_ID]}: {title}"
    return (
        f"  story {record.story_id[:SHORT_ID]} now {record.size} articles"
        f" (similarity {record.similarity:.2f}): {title}"
    )
