"""Every message that crosses a topic, as a frozen pydantic v2 model.

One module per model family; the closed vocabularies of their fields in ``enums``.

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
from shared.schemas.enums import (
    DIRECTIONS,
    NO_MOVEMENT,
    Action,
    DeadLetterReason,
    Direction,
    Modality,
    NoMovement,
    PlaceKind,
    Severity,
)
from shared.schemas.events import EventAlert, EventMention, event_record
from shared.schemas.stories import StoriedArticle, StoryRecord, StoryStatus

__all__ = [
    "DIRECTIONS",
    "NO_MOVEMENT",
    "Action",
    "Alert",
    "CleanArticle",
    "DeadLetter",
    "DeadLetterReason",
    "Direction",
    "DuplicateNotice",
    "EnrichedArticle",
    "Entity",
    "EventAlert",
    "EventMention",
    "Frame",
    "FrameParty",
    "Message",
    "Modality",
    "NoMovement",
    "PlaceKind",
    "RawArticle",
    "Sentence",
    "Severity",
    "StoriedArticle",
    "StoryRecord",
    "StoryStatus",
    "UniqueArticle",
    "event_record",
]
