"""alerts' stages: rules (consumes news.storied-article.v1, produces news.alert.v1) and events (consumes news.alert.v1, produces news.event-alert.v1 and news.event-mention.v1); both dead-letter news.alerts.dlq.

The alerts workers run both. The alert topic is keyed by ``Alert.bucket``, so the events stage
reads it partitioned by bucket: one worker owns a bucket's events in its changelogged Table,
however many alerts workers run.
"""

from services.alerts.settings import AlertsSettings
from shared.stage import Metric, Stage
from shared.topics import ALERTS, EVENT_ALERTS, EVENT_MENTIONS, STORIED_ARTICLES

STAGE = Stage(
    "alerts",
    STORIED_ARTICLES,
    (ALERTS,),
    AlertsSettings,
    build="services.alerts.handler:build",
    metrics=(Metric("alerts_fired", "Alerts fired, by rule.", ("rule",)),),
)

EVENTS = Stage(
    "alerts",
    ALERTS,
    (EVENT_ALERTS, EVENT_MENTIONS),
    AlertsSettings,
    build="services.alerts.handler:build_events",
    metrics=(
        Metric(
            "events",
            "Alerts folded into events, by rule and status (new, update, mention).",
            ("rule", "status"),
        ),
        Metric("events_evicted", "Events that left the store, their window over (article time)."),
    ),
    table="events",
    isolated=False,
    name="events",
)
