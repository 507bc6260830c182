"""The stories handler with the packaged embedder: reports of one happening share a story, another happening does not."""

from __future__ import annotations

from services.stories.handler import build
from services.stories.settings import StoriesSettings
from shared.schemas import StoriedArticle, StoryRecord
from tests.services.stories.test_core import article


def test_reworded_reports_share_a_story_and_the_article_carries_it():
    handle = build(StoriesSettings(), {})
    reports = [
        article("a1", title="Russian troops land in Caracas"),
        article("a2", title="Russia sends about 100 soldiers to Venezuela's capital"),
        article(
            "a3",
            title="Chelsea beat Arsenal 2-1 in the London derby",
            text="Chelsea won the derby at Stamford Bridge. Arsenal had led at half time.",
            names=(("Chelsea", "ORG", None), ("Arsenal", "ORG", None)),
        ),
    ]
    out = [handle(r.to_bytes()) for r in reports]
    storied = [h.outputs[0] for h in out]
    records = [h.outputs[1] for h in out]
    assert all(isinstance(s, StoriedArticle) for s in storied)
    assert all(isinstance(r, StoryRecord) for r in records)
    assert storied[1].story_id == storied[0].story_id and storied[1].story_size == 2
    assert storied[2].story_id != storied[0].story_id
    assert [r.status for r in records] == ["new", "joined", "new"]
    assert storied[1].entities == reports[1].entities  # the article passes through whole
    assert ("stories", ("joined",), 1.0) in out[1].counts
