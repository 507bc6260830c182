"""alerts' settings: the shared NEWS_* set plus the alerts' own.

The rules file, its reload interval, the spaCy model that parses candidate sentences, the
sentence embedder's threads and the event window.
"""

from pydantic import Field

from shared.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    alerts_rules: str | None = Field(
        default=None,
        description="The rules YAML file; unset: the rules shipped in services/alerts/rules.yaml. "
        "Edits are in force within a few seconds.",
    )
    alerts_rules_check_s: float = Field(
        default=1.0,
        ge=0,
        description="The rules file is looked at (one stat) at most this often, at message time; "
        "a change is in force from the next message (at most one interval later).",
    )
    alerts_spacy_model: str = Field(
        default="en_core_web_sm",
        description="Parses the candidate sentences (tagger, parser, lemmatizer; NER for titles "
        "only).",
    )
    alerts_embed_threads: int = Field(
        default=1,
        ge=1,
        description="Threads of the sentence embedder (onnxruntime) that rules by example score "
        "candidate sentences with; the stage shares its cores with spaCy.",
    )
    alerts_event_window_days: float = Field(
        default=7.0,
        gt=0,
        description="An event stays open (later reports fold into it) until no report of it has "
        "come for this long in article time (published_at, else when the alert fired); then it is "
        "evicted and the next report of that movement opens a new event.",
    )
