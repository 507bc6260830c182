"""Benchmark of alerts' events stage: alerts/second through its handler, and its state bounded by the window.

Run from the repository root (part of ``make bench``):

    .venv/bin/python -m evaluation.events.bench [--alerts 30000] [--days 60]

A synthetic stream of troop-movement alerts in article-time order over ``--days`` days: actors
and places drawn from 40 countries (so a few hundred movements are open at any time), counts and
platforms now and then, a third without a place or actor. It goes through the events stage's own
handler (``services.alerts.handler.build_events``: decode, fold, the record) over a dict store, as
``newswatch process`` runs it; the worker's faust Table adds its changelog send per write.

Printed: alerts/s; the largest bucket index (rewritten with each alert of its bucket); the store's keys and JSON bytes after a third of the stream and at its end
(their ratio stays near 1: events leave with the window, so state follows the window's traffic,
not the stream's length); the shares of new, update and mention.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from services.alerts.handler import build_events
from services.alerts.settings import AlertsSettings
from shared.schemas import Alert, Frame, FrameParty

COUNTRIES = [
    "RU",
    "US",
    "GB",
    "FR",
    "DE",
    "CN",
    "IN",
    "PK",
    "IR",
    "IQ",
    "SY",
    "TR",
    "IL",
    "LB",
    "UA",
    "BY",
    "PL",
    "LT",
    "LV",
    "EE",
    "VE",
    "CO",
    "ML",
    "NE",
    "NG",
    "SO",
    "SD",
    "LY",
    "EG",
    "SA",
    "YE",
    "AF",
    "KP",
    "KR",
    "JP",
    "TW",
    "PH",
    "VN",
    "RS",
    "XK",
]
ACTIONS = ["deploy", "arrive", "reinforce", "withdraw", "reduce", "mobilise"]
PLATFORMS = ["Il-62", "An-124", "T-72", "F-16", "Su-35", "C-17", "HIMARS", "S-400"]


def stream(n: int, days: float, seed: int = 20261202) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    values = []
    for i in range(n):
        when = start + timedelta(days=days * i / n)
        actor = rng.choice(COUNTRIES[:12])  # a few forces move a lot
        place = rng.choice(COUNTRIES)
        frame = Frame(
            actor=FrameParty(text=actor, country=actor) if rng.random() > 0.15 else None,
            action=rng.choice(ACTIONS),  # type: ignore[arg-type]
            place=FrameParty(text=place, country=place) if rng.random() > 0.2 else None,
            count=rng.choice([None, None, None, 100, 300, 1000 * rng.randint(1, 9)]),
            equipment=[rng.choice(PLATFORMS)] if rng.random() < 0.2 else [],
            modality=rng.choice(["fact", "fact", "fact", "plan", "demand"]),  # type: ignore[arg-type]
        )
        alert = Alert(
            alert_id=f"a{i}",
            rule_id="troop_movement",
            article_id=f"art{i // 3}",
            sentence_index=i % 3,
            evidence="Troops moved.",
            frame=frame,
            frames=[frame],
            source=f"s{rng.randint(1, 30)}.example",
            published_at=when,
            fired_at=when + timedelta(hours=1),
        )
        values.append(alert.to_bytes())
    return values


def state_size(store: dict[str, object]) -> tuple[int, int]:
    return len(store), sum(len(k) + len(json.dumps(v)) for k, v in store.items())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=30_000)
    parser.add_argument("--days", type=float, default=60.0)
    args = parser.parse_args()
    settings = AlertsSettings()
    values = stream(args.alerts, args.days)
    store: dict[str, object] = {}
    handle = build_events(settings, store)
    statuses: Counter[str] = Counter()
    third = len(values) // 3
    t0 = time.perf_counter()
    for i, value in enumerate(values):
        [record] = handle(value).outputs
        statuses[record.status] += 1  # type: ignore[attr-defined]
        if i + 1 == third:
            at_third = state_size(store)
    took = time.perf_counter() - t0
    at_end = state_size(store)
    window = settings.alerts_event_window_days
    print(
        f"events: {len(values):,} alerts over {args.days:g} days (window {window:g} days) "
        f"in {took:.2f} s: {len(values) / took:,.0f} alerts/s"
    )
    print(
        f"events: state after {third:,} alerts: {at_third[0]:,} keys, {at_third[1] / 1e6:.2f} MB (JSON); "
        f"at the end: {at_end[0]:,} keys, {at_end[1] / 1e6:.2f} MB; ratio end / third {at_end[1] / at_third[1]:.2f}"
    )
    # The bucket's index of its open events is rewritten with every alert of the bucket (in the
    # worker: one changelog record each), so its size is the per-alert write cost.
    index = max(len(json.dumps(v)) for k, v in store.items() if k.startswith("b:"))
    open_events = max(len(v["e"]) for k, v in store.items() if k.startswith("b:"))  # type: ignore[index]
    print(
        f"events: largest bucket index {index / 1e3:.1f} kB ({open_events} open events): written per alert"
    )
    total = sum(statuses.values())
    print(
        "events: "
        + ", ".join(f"{s} {statuses[s] / total:.1%}" for s in ("new", "update", "mention"))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
