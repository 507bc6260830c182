"""Every stage of the pipeline in order, for the runners that chain them (``newswatch process``)."""

from services.alerts.stage import EVENTS
from services.alerts.stage import STAGE as ALERTS
from services.clean.stage import STAGE as CLEAN
from services.dedup.stage import STAGE as DEDUP
from services.entities.stage import STAGE as ENTITIES

STAGES = (CLEAN, DEDUP, ENTITIES, ALERTS, EVENTS)
