"""A stage, declared once by each service: the topic it consumes, the topics it produces, how it builds its handler, whether it takes batches, and how its outputs are counted.

The faust worker (``shared.kafka.build_worker``) runs it; so does ``newswatch process``. No Kafka here.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from shared.metrics import ServiceMetrics
from shared.schemas import Message
from shared.settings import ServiceSettings
from shared.topics import TopicSpec

# One consumed message's value in, the messages to publish out (routed by their model's topic).
Handler = Callable[[bytes], Sequence[Message]]
# build(settings, store, metrics) -> handler. ``store`` is the stage's state (a changelogged faust
# Table in the worker, a dict elsewhere) when the stage declares a ``table``, else None.
Builder = Callable[[Any, "MutableMapping[str, Any] | None", ServiceMetrics], Handler]
# observe(metrics, outputs): domain counters, always in the runner's own process.
Observer = Callable[[ServiceMetrics, Sequence[Message]], None]
# A batch's answer: for each value in order, its outputs or the exception that rejected it alone.
BatchResult = list[Sequence[Message] | Exception]


@runtime_checkable
class BatchHandler(Protocol):
    """What the build of a stage that takes batches returns: one handler, two ways in.

    Both share what the build loaded (one spaCy model), so ``newswatch process`` and the worker's
    fallback call it one message at a time, and the worker hands it batches.
    """

    def __call__(self, value: bytes) -> Sequence[Message]:
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


def observe_nothing(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """The default observer: the standard metrics are counted by the runner already."""


@dataclass(frozen=True)
class Stage:
    """One service's stage.

    ``isolated``: the handler is pure (no state between messages), so the worker runs it in a
    child process under a per-message time budget (``shared.isolate``): CPU-bound work never holds
    the worker's event loop, and a message that exceeds the budget is dead-lettered as ``timeout``
    with the child replaced, so no work is left running behind. A stage with a ``table`` writes
    faust Table state, which only the consuming task may do, so it runs inline; its work must be
    bounded by its input's size (dedup's is linear in the text).

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
    build: Builder
    observe: Observer = observe_nothing
    table: str | None = None
    isolated: bool = True
    batching: Callable[[Any], Batching] | None = None
    # A service with a second stage in its workers names it (the faust agent; alerts' "events").
    name: str | None = None

    @property
    def step(self) -> str:
        """The stage's name within its service: the faust agent's name; the service word for its first stage."""
        return self.name or self.service

    @property
    def topics(self) -> list[TopicSpec]:
        """Every topic the stage touches except its dead-letter topic."""
        return [self.consumes, *self.produces]

    def __post_init__(self) -> None:
        if self.table is not None and self.isolated:
            raise ValueError(f"{self.service}: a stage with a table cannot run isolated")
