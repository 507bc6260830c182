"""A stage, declared once by each service and run by every runner: topics, build, metrics.

A declaration is cheap: it names its build as a ``"module:function"`` reference, imported only by
the runner that runs the stage (the faust worker, its isolated child, ``newswatch process``), so
``newswatch run`` or a test that needs the topics never loads spaCy. ``services/stages.py`` lists
the stages in order. No Kafka here.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

from shared.metrics import ServiceMetrics
from shared.schemas import Message
from shared.settings import ServiceSettings
from shared.topics import TopicSpec

log = logging.getLogger("newswatch")


class Count(NamedTuple):
    """One increment of a stage's domain counter: ``news_<metric>{service, *labels}`` += ``value``."""

    metric: str
    labels: tuple[str, ...] = ()
    value: float = 1.0


class Handled(NamedTuple):
    """What a handler answers for one message: the messages to publish and its domain counts.

    The counts travel with the outputs (through an isolated stage's pipe too) and the runner counts
    them once the outputs are written, so no counter is kept where the runner cannot see it.
    """

    outputs: Sequence[Message]
    counts: Sequence[Count] = ()


@dataclass(frozen=True)
class Metric:
    """A domain counter a stage declares: ``news_<name>`` with the ``service`` label, then ``labels``."""

    name: str
    doc: str
    labels: tuple[str, ...] = ()


# One consumed message's value in, its outputs (routed by their model's topic) and counts out.
Handler = Callable[[bytes], Handled]
# build(settings, store) -> handler. ``store`` is the stage's state (a changelogged faust Table in
# the worker, a dict elsewhere) when the stage declares a ``table``, else None.
Builder = Callable[[Any, "MutableMapping[str, Any] | None"], Handler]
# A batch's answer: for each value in order, what it handled or the exception that rejected it alone.
BatchResult = list[Handled | Exception]


@runtime_checkable
class BatchHandler(Protocol):
    """What the build of a stage that takes batches returns: one handler, two ways in.

    Both share what the build loaded (one spaCy model), so ``newswatch process`` and the worker's
    fallback call it one message at a time, and the worker hands it batches.
    """

    def __call__(self, value: bytes) -> Handled:
        """One value's outputs; raises what rejects it (``Reject``, ``ValidationError``, a bug)."""
        ...

    def batch(self, values: Sequence[bytes]) -> BatchResult:
        """Each value's outputs or its own error, in order.

        A value that cannot be used (it does not decode, the core rejects it) is answered with its
        exception and the rest go on. Raising means the batch as a whole failed: the worker then
        calls the handler on each value alone, so only the culprit is dead-lettered.
        """
        ...


@dataclass(frozen=True)
class Batching:
    """How the worker batches a stage's messages (from its settings; see ``Stage.batching``).

    A batch is at most ``size`` messages and ``max_bytes`` of their values (one message over it
    goes alone), or whatever arrived within ``within_s`` when fewer came; the handler gets
    ``budget_s`` for the whole batch before the worker falls back to one message at a time.
    """

    size: int
    within_s: float
    max_bytes: int
    budget_s: float


@dataclass(frozen=True)
class Stage:
    """One step of a service: what it consumes and produces, its build, its domain metrics.

    ``build``: ``"module:function"``, the function ``build(settings, store) -> handler``.

    ``isolated``: the handler is pure (no state between messages), so the worker runs it in a
    child process under a per-message time budget (``shared.worker.isolate``): CPU-bound work
    never holds the worker's event loop, and a message that exceeds the budget is dead-lettered
    as ``timeout`` with the child replaced. A stage with a ``table`` writes faust Table state,
    which only the consuming task may do, so it runs inline; its work must be bounded by its
    input's size (dedup's is linear in the text).

    A service may run more than one stage in its workers (alerts: the rules, then the events
    they fold into); each has its own ``name`` and all share the service's word, consumer group,
    settings, metrics and dead-letter topic.

    ``batching``: settings -> ``Batching`` for a stage whose build returns a ``BatchHandler``
    (entities: spaCy's ``nlp.pipe`` is faster over many texts at once); None, one message at a
    time. ``newswatch process`` always calls the handler one message at a time.
    """

    service: str
    consumes: TopicSpec
    produces: tuple[TopicSpec, ...]
    settings: type[ServiceSettings]
    build: str
    metrics: tuple[Metric, ...] = ()
    table: str | None = None
    isolated: bool = True
    batching: Callable[[Any], Batching] | None = None
    # A service with a second stage in its workers names it (the faust agent; alerts' "events").
    name: str | None = None

    def __post_init__(self) -> None:
        if self.table is not None and self.isolated:
            raise ValueError(f"{self.service}: a stage with a table cannot run isolated")
        module, _, function = self.build.partition(":")
        if not module or not function:
            raise ValueError(f"{self.service}: build must be 'module:function', not {self.build!r}")

    @property
    def step(self) -> str:
        """The stage's name within its service: its faust agent; the service word for the first."""
        return self.name or self.service

    @property
    def topics(self) -> list[TopicSpec]:
        """Every topic the stage touches except its dead-letter topic."""
        return [self.consumes, *self.produces]

    def builder(self) -> Builder:
        """The build function, imported now (this is where a stage's heavy imports happen)."""
        builder: Builder = resolve(self.build)
        return builder

    def make_handler(self, settings: Any, store: MutableMapping[str, Any] | None = None) -> Handler:
        """Build the stage's handler from its settings (and its store, for a stage with a table)."""
        return self.builder()(settings, store)


def resolve(ref: str) -> Any:
    """Import ``module:NAME`` and return the name."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def as_handled(result: Handled | Iterable[Message]) -> Handled:
    """A handler's answer as ``Handled``: a bare sequence of messages has no counts."""
    if isinstance(result, Handled):
        return result
    return Handled(tuple(result))


def register_metrics(metrics: ServiceMetrics, stages: Iterable[Stage]) -> None:
    """Create the stages' domain counters up front, so /metrics lists them before the first count."""
    for stage in stages:
        for metric in stage.metrics:
            metrics.counter(metric.name, metric.doc, metric.labels)


def record_counts(metrics: ServiceMetrics, stage: Stage, counts: Iterable[Count]) -> None:
    """Add a handler's counts to the stage's declared counters; an undeclared one is logged, not counted."""
    declared = {metric.name: metric for metric in stage.metrics}
    for count in counts:
        metric = declared.get(count.metric)
        if metric is None or len(count.labels) != len(metric.labels):
            log.error(
                "%s: the handler counted %s%s, which the stage does not declare",
                stage.step,
                count.metric,
                count.labels,
            )
            continue
        if count.value:
            metrics.counter(metric.name, metric.doc, metric.labels).labels(
                metrics.service, *count.labels
            ).inc(count.value)
