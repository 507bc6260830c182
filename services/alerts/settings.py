"""alerts' settings: the shared NEWS_* set plus NEWS_ALERTS_RULES (a YAML rules file)."""

from shared.settings import ServiceSettings


class AlertsSettings(ServiceSettings):
    """Settings of the alerts service."""

    alerts_rules: str | None = None  # None: the rules shipped in services/alerts/rules.yaml
