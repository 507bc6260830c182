"""The alerts service's events stage: alerts folded into events.

Over a typed store: ``fold`` holds the decisions (``EventFolder``), ``state`` the store's
records, ``keys`` how an alert is keyed and timed. The stage runs in the alerts workers (one consumer group).
"""

from services.alerts.events.fold import EventFolder, fold
from services.alerts.events.keys import article_time, bucket_key, party_key

__all__ = ["EventFolder", "article_time", "bucket_key", "fold", "party_key"]
