"""Every stage of the pipeline in order: the one list the workers and every runner read.

Importing it loads no spaCy: a declaration names its build lazily (``shared.stage.Stage.build``).
"""

from services.alerts.stage import EVENTS
from services.alerts.stage import STAGE as ALERTS
from services.clean.stage import STAGE as CLEAN
from services.dedup.stage import STAGE as DEDUP
from services.entities.stage import STAGE as ENTITIES
from services.stories.stage import STAGE as STORIES
from shared.stage import Stage
from shared.topics import SERVICES, TopicSpec

STAGES: tuple[Stage, ...] = (CLEAN, DEDUP, ENTITIES, STORIES, ALERTS, EVENTS)


def stages_of(service: str) -> tuple[Stage, ...]:
    """The stages one service's workers run, in order."""
    found = tuple(stage for stage in STAGES if stage.service == service)
    if not found:
        raise ValueError(f"no stage of service {service!r}")
    return found


def sources() -> dict[str, tuple[TopicSpec, ...]]:
    """The topics each service's workers consume, by service, in pipeline order."""
    return {service: tuple(stage.consumes for stage in stages_of(service)) for service in SERVICES}


def stages_until(service: str) -> tuple[Stage, ...]:
    """The stages up to and including every stage of ``service`` (``newswatch process --until``)."""
    last = max(i for i, stage in enumerate(STAGES) if stage.service == service)
    return STAGES[: last + 1]
