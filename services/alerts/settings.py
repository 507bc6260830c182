"""alerts' settings: the shared NEWS_* set plus the rules file, its reload interval and the spaCy model that parses candidate sentences."""

from pydantic import Field

from shared.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    alerts_rules: str | None = None  # None: the rules shipped in services/alerts/rules.yaml
    # The rules file is looked at (one stat) at most this often, at message time; a change is
    # in force from the next message (at most one interval later).
    alerts_rules_check_s: float = Field(default=1.0, ge=0)
    # Parses the candidate sentences (tagger, parser, lemmatizer; NER for titles only).
    alerts_spacy_model: str = "en_core_web_sm"
