"""Every message that crosses a topic, as a frozen pydantic v2 model (one module per model family).

Within a schema version only optional fields may be added; a breaking change gets a new model on a
new ``.v2`` topic (STYLE.md §3).
"""

from shared.schemas.articles import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Entity,
    Frame,
    FrameParty,
    Message,
    RawArticle,
    Sentence,
    UniqueArticle,
)
from shared.schemas.events import EventAlert, EventMention, event_record

__all__ = [
    "Alert",
    "CleanArticle",
    "DeadLetter",
    "DuplicateNotice",
    "EnrichedArticle",
    "Entity",
    "EventAlert",
    "EventMention",
    "Frame",
    "FrameParty",
    "Message",
    "RawArticle",
    "Sentence",
    "UniqueArticle",
    "event_record",
]
