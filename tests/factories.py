"""Test factories shared across test folders: articles segmented as dedup segments them, bad inputs, linear-time ratios, and a stage run under the worker's loop with fake topics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from services.dedup.features import split_sentences as dedup_spans
from shared.metrics import ServiceMetrics
from shared.schemas import Action, Alert, Entity, Frame, FrameParty, Modality, Sentence, Severity
from shared.stage import Stage, register_metrics
from shared.worker.loop import Step


def split_sentences(text: str, seen: Iterable[int] = ()) -> list[Sentence]:
    """``text``'s sentences as dedup would emit them; indices in ``seen`` are marked seen."""
    seen = set(seen)
    return [
        Sentence(index=i, start=start, end=end, text=text[start:end], seen=i in seen)
        for i, (start, end) in enumerate(dedup_spans(text))
    ]


# ---------------------------------------------------------------- bad inputs


def _keeper(found: list[bytes]):
    def keep(value: bytes) -> None:
        found.append(value)

    return keep


def bad_inputs(count: int, seed: int = 7, oversize_bytes: int = 2_100_000) -> list[bytes]:
    """``count`` inputs no stage should be able to use, mixed in a fixed order (the same every run).

    Most are drawn by hypothesis (random bytes, invalid UTF-8, JSON of the wrong types, random
    text); the rest are the shapes that broke workers before: deep nesting, oversize bodies,
    adversarial repetitions for backtracking patterns, HTML with scripts and external resources.
    Some of the random text is usable after all: the pipelines decide, and both must agree.
    """
    import json
    import random

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=40)
    )
    wrong_types = st.fixed_dictionaries(
        {},
        optional={
            "id": json_scalars | st.lists(json_scalars, max_size=3),
            "text": st.integers()
            | st.lists(st.text(max_size=20), max_size=3)
            | st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)
            | st.none(),
            "html": st.integers() | st.booleans() | st.none(),
            "title": st.integers() | st.lists(json_scalars, max_size=2),
            "published_at": st.text(max_size=30) | st.integers(),
            "url": st.integers() | st.text(max_size=30),
        },
    ).map(lambda d: json.dumps(d).encode())
    invalid_utf8 = st.tuples(
        st.text(min_size=1, max_size=200),
        st.sampled_from(
            [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]
        ),
        st.text(max_size=200),
    ).map(lambda t: t[0].encode() + t[1] + t[2].encode())
    strategies = [
        st.binary(max_size=3000),
        invalid_utf8,
        wrong_types,
        st.text(max_size=2000).map(str.encode),
        st.recursive(
            json_scalars,
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    ]
    per = count // 2 // len(strategies) + 1
    drawn: list[bytes] = []
    for strategy in strategies:
        found: list[bytes] = []
        settings(
            max_examples=per,
            database=None,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(_keeper(found)))()
        drawn.extend(found[:per])

    rng = random.Random(seed)
    crafted: list[bytes] = []
    depth = [10, 100, 1000, 10_000]
    repeats = [
        b"a",
        b"@",
        b"a@a.",
        b"<",
        b". ",
        b"-",
        b"0",
        b"((",
        b"=\n",
        b"http://",
        b"aaaa ",
        b"\t",
    ]
    while len(crafted) < count - len(drawn):
        kind = rng.randrange(6)
        if kind == 0:
            d = rng.choice(depth)
            crafted.append(
                rng.choice(
                    [
                        b"[" * d + b"]" * d,
                        b'{"a":' * d + b"1" + b"}" * d,
                        b'{"text": ' + b"[" * d + b"]" * d + b"}",
                    ]
                )
            )
        elif kind == 1 and rng.random() < 0.01:  # oversize: few, they are big
            crafted.append(b"word " * (oversize_bytes // 5 + rng.randrange(1000)))
        elif kind == 2:
            unit = rng.choice(repeats)
            crafted.append(unit * (rng.choice([1000, 1000, 20_000, 20_000, 200_000]) // len(unit)))
        elif kind == 3:
            body = "".join(
                f'<script src="http://{rng.randrange(99)}.example/x.js">while(1){{}}</script>'
                f'<img src="http://tracker.example/{rng.randrange(9999)}.gif"><iframe src="http://ads.example"></iframe>'
                for _ in range(rng.randrange(1, 20))
            )
            crafted.append(
                json.dumps(
                    {"html": f"<html><head>{body}</head><body>{body}</body></html>"}
                ).encode()
            )
        elif kind == 4:
            crafted.append(
                rng.choice(
                    [
                        b"",
                        b" ",
                        b"\n\n\t",
                        b"null",
                        b"[]",
                        b"42",
                        b'"text"',
                        b"{",
                        b"{}",
                        b'{"text": ""}',
                        b'{"html": ""}',
                        b"\xef\xbb\xbf",
                        b"\xff\xfe" + "utf16".encode("utf-16-le"),
                        b"%PDF-1.7 ...",
                        b"\x1f\x8b\x08\x00",
                        b"PK\x03\x04zip",
                    ]
                )
            )
        else:
            crafted.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 500))))
    mixed = drawn + crafted
    rng.shuffle(mixed)
    return mixed[:count]


# ---------------------------------------------------------------- linear time, as a ratio

# Time at 4n over time at n: linear work gives ~4, quadratic 16. A ratio, not a time: the machines
# are shared and noisy. The time is this thread's CPU time, not the wall clock: with more runnable
# processes than cores, work longer than a scheduler slice (a few ms) is preempted and its wall
# time inflated (12x for 4x the work was seen under a load of 6 on 2 cores), work shorter is not.
LINEAR_RATIO = 8.0


def repeat_to(unit: str, n: int) -> str:
    """``unit`` repeated to exactly ``n`` characters: the adversarial inputs of backtracking patterns."""
    return (unit * (n // len(unit) + 1))[:n]


def best_of_3(fn) -> float:
    """The fastest of three runs of ``fn``, in seconds of this thread's CPU time (see ``_timed``)."""
    return min(_timed(fn) for _ in range(3))


def assert_linear(make, n: int, label: str, max_ratio: float = LINEAR_RATIO) -> None:
    """``make(n)`` returns the work to time; its time at 4n over its time at n stays under ``max_ratio``.

    The two sizes are timed in turn, five times each, and the fastest of each kept: a burst of
    load from another process then slows one run, not the ratio.
    """
    small_work, large_work = make(n), make(4 * n)
    small = large = float("inf")
    for _ in range(5):
        small = min(small, _timed(small_work))
        large = min(large, _timed(large_work))
    # Below a millisecond the clock and the scheduler decide, not the algorithm.
    ratio = large / max(small, 1e-3)
    assert ratio < max_ratio, f"{label}: {small:.4f} s at n={n}, {large:.4f} s at 4n ({ratio:.1f}x)"


def _timed(fn) -> float:
    """One run of ``fn`` in this thread's CPU seconds, the garbage collector held off.

    A full collection walks every object of the process (hundreds of thousands once spaCy and the
    place table are loaded: ~0.2 s) and lands on whichever call allocates past its threshold, more
    often the larger one: it would be timed as the algorithm's. Collections are left to the
    callers' next allocations outside the timing.
    """
    import gc
    import time

    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.thread_time()
        fn()
        return time.thread_time() - start
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------- a stage under the worker's loop, no broker


@dataclass
class FakeTopic:
    """A faust topic that records what is sent to it and acknowledges at once."""

    name: str
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None = None, value: bytes) -> asyncio.Future[None]:
        """Like faust's: returns the future of the broker's acknowledgement (here already done)."""
        self.sent.append((key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    refcount: int = 0  # like faust's: committable once every holder has acked it

    def incref(self) -> None:
        self.refcount += 1


@dataclass
class FakeEvent:
    key: bytes | None
    value: bytes
    message: FakeMessage

    def ack(self) -> None:
        self.message.refcount -= 1


class FakeStream:
    """The events of one topic partition, offsets from 0, as the agent iterates them."""

    def __init__(self, values: Sequence[bytes], topic: str) -> None:
        self.events_ = [FakeEvent(None, v, FakeMessage(topic, 0, n)) for n, v in enumerate(values)]

    async def events(self):
        for event in self.events_:
            yield event


class FakeApp:
    """What ``shared.worker.loop.Step`` asks of a faust app: its topics."""

    def __init__(self) -> None:
        self.topics: dict[str, FakeTopic] = {}

    def topic(self, name: str, **_: object) -> FakeTopic:
        return self.topics.setdefault(name, FakeTopic(name))


@dataclass
class StageRun:
    """What a stage's worker loop sent, by topic, and the metrics it counted."""

    topics: dict[str, FakeTopic]
    registry: CollectorRegistry

    def sent(self, topic: str) -> list[bytes]:
        """The values sent to ``topic``, in order."""
        return [value for _, value in self.topics[topic].sent] if topic in self.topics else []

    def sample(self, name: str, **labels: str) -> float:
        """A metric's value (0 when never counted)."""
        return self.registry.get_sample_value(name, labels) or 0.0


def run_stage(
    stage: Stage,
    values: Sequence[bytes],
    *,
    settings: Any = None,
    store: MutableMapping[str, Any] | None = None,
) -> StageRun:
    """Run ``values`` through ``stage`` as its worker does: its build, the agent loop
    (``shared.worker.loop.Step``: decode → handler → send → ack → count, dead letters), fake topics.

    The handler runs inline (the worker runs an isolated stage's same build in a child process:
    tests/shared/test_isolate.py); a stage with a table gets ``store`` (a dict by default).
    """
    app, registry = FakeApp(), CollectorRegistry()
    metrics = ServiceMetrics(stage.service, registry)
    register_metrics(metrics, [stage])
    table = (store if store is not None else {}) if stage.table else None
    handler = stage.make_handler(settings or stage.settings(), table)
    step = Step(app, stage, handler, metrics)  # type: ignore[arg-type]
    asyncio.run(step(FakeStream(values, stage.consumes.name)))  # type: ignore[arg-type]
    return StageRun(app.topics, registry)


# ------------------------------------------------------------------ alerts for the events step

T0 = datetime(2019, 3, 25, 12, 0, tzinfo=UTC)
RU = {"text": "Russian", "country": "RU"}
VE = {"text": "Venezuela", "country": "VE"}
CARACAS = {"text": "Caracas", "country": "VE"}
MARACAIBO = {"text": "Maracaibo", "country": "VE"}
SYRIA = {"text": "Syria", "country": "SY"}
PLACES = {  # the entities stage's kind of each place, as the alert carries it
    "Venezuela": ("VE", "country"),
    "Caracas": ("VE", "city"),
    "Maracaibo": ("VE", "city"),
    "Syria": ("SY", "country"),
    "Gaza": ("PS", "region"),
    "the Gaza Strip": ("PS", "region"),
    "the West Bank": ("PS", "region"),
}


_serial = iter(range(1_000_000))


def troop_alert(
    *,
    actor: dict[str, Any] | None = RU,
    place: dict[str, Any] | None = VE,
    action: Action | None = "deploy",
    count: int | None = None,
    equipment: tuple[str, ...] = (),
    modality: Modality = "fact",
    framed: bool = True,
    day: float = 0,
    published: bool = True,
    rule_id: str = "troop_movement",
    article_id: str | None = None,
    source: str | None = "example.com",
    alert_id: str | None = None,
    sentence_index: int = 0,
    evidence: str | None = None,
    title: str | None = None,
    url: str | None = None,
    rule_name: str = "",
    severity: Severity | None = None,
) -> Alert:
    """A troop-movement alert as the alerts core makes it, built by hand; ``day`` is its article time after T0."""
    n = next(_serial)
    frame = None
    entities = []
    if framed:
        frame = Frame(
            actor=FrameParty(**actor) if actor else None,
            action=action,
            place=FrameParty(**place) if place else None,
            count=count,
            equipment=list(equipment),
            modality=modality,
            trigger="sent",
            force="troops",
        )
        if place and place["text"] in PLACES:
            country, kind = PLACES[place["text"]]
            entities.append(
                Entity(
                    text=place["text"],
                    label="GPE",
                    start=0,
                    end=len(place["text"]),
                    sentence=0,
                    country=country,
                    place_kind=kind,
                )
            )
    when = T0 + timedelta(days=day)
    return Alert(
        alert_id=alert_id or f"alert-{n:06d}",  # padded: no id is a prefix of another
        rule_id=rule_id,
        rule_name=rule_name,
        severity=severity,
        article_id=article_id or f"article-{n:06d}",
        sentence_index=sentence_index,
        evidence=evidence or f"sentence {n}",
        entities=entities,
        frame=frame,
        frames=[frame] if frame else [],
        title=title,
        url=url,
        source=source,
        published_at=when if published else None,
        # fired a little after publication, as in production; unpublished ones fire at ``when``
        fired_at=when + timedelta(hours=1) if published else when,
    )
