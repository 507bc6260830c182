"""The commit guard around faust's recovery race: never commit past a message not acked."""

from __future__ import annotations

import asyncio
import logging
import time

from faust.transport.drivers import aiokafka as faust_kafka
from faust.types import TP
from faust.utils.functional import consecutive_numbers

log = logging.getLogger("newswatch")

# How long a partition's commit may wait on a message that later ones were acked past before the
# worker reads again from it (see StrictCommitConsumer), and how long before it tries once more.
HOLE_GRACE_S = 5.0
HOLE_RETRY_S = 60.0
_clock = time.monotonic  # the holes' clock (tests move it)


class StrictCommitConsumer(faust_kafka.Consumer):
    """faust's Kafka consumer, committing a partition only up to its first message not acked, and reading that message again.

    faust 0.15.3 commits past the first message after the last commit when that one alone is not
    acked (``_new_offset`` lets ``min(acked) - committed == 1`` through: faust-streaming #606), and
    counts the "gaps" its fetch loop records (an offset more than one past the last it delivered)
    as acked. Both lose a message that faust itself dropped: at the end of a recovery it can hand an
    agent messages fetched before its seek to the committed offset, clear them from the agent's
    queue (``flow_control.resume()``), and not fetch them again (its read offset has moved on). Our
    topics are neither compacted nor transactional, so every offset holds a message: the commit
    waits for it instead, and right after faust cleared the queues the partitions are sought back
    to their committed offsets (``resume_flow``), so what was cleared is fetched again.

    Should a message still be dropped, the agent, which handles a partition's messages in order,
    acks later ones while the one at the committed offset is not. After ``HOLE_GRACE_S`` the consumer seeks
    the partition back to it (the messages after it are handled again: at-least-once, and every
    stage's outputs are idempotent by key), logging a WARNING; once more every ``HOLE_RETRY_S`` if
    that did not help, so a worker never stalls silently. Records deleted by retention before the
    group read them are the one real hole: the commit moves on to the earliest offset, with a
    WARNING.
    """

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        return None  # a recorded gap would be committed as if acked (see the class docstring)

    def resume_flow(self) -> None:
        """faust calls this right after ``flow_control.resume()`` has cleared the agents' queues (the
        end of a recovery): seek back to the committed offsets, so that what was cleared is fetched
        and handled, not skipped (what had been handled already is handled again: at-least-once)."""
        super().resume_flow()
        if self.assignment():
            asyncio.ensure_future(self._seek_again())

    async def _seek_again(self) -> None:
        log.info("reading again from the committed offsets: faust cleared its agents' queues")
        await self.perform_seek()

    def _new_offset(self, tp: TP) -> int | None:
        acked = self._acked[tp]
        if not acked:
            return None
        acked.sort()
        committed = self._committed_offset[tp]
        if committed is not None and acked[0] > committed:
            self._hole(tp, committed)
            return None  # the message at ``committed`` is not acked (yet, or it was dropped)
        run = next(consecutive_numbers(acked))
        del acked[: len(run)]
        self._acked_index[tp].difference_update(run)
        return run[-1] + 1

    def _hole(self, tp: TP, offset: int) -> None:
        holes: dict[TP, tuple[int, float, float | None]] = self.__dict__.setdefault(
            "_newswatch_holes", {}
        )
        now = _clock()
        seen = holes.get(tp)
        if seen is None or seen[0] != offset:
            holes[tp] = (offset, now, None)  # (offset, first seen, last rewound)
            return
        _, first, rewound = seen
        if now - first < HOLE_GRACE_S or (rewound is not None and now - rewound < HOLE_RETRY_S):
            return
        holes[tp] = (offset, first, now)
        asyncio.ensure_future(self._rewind(tp, offset))

    async def _rewind(self, tp: TP, offset: int) -> None:
        earliest = (await self.earliest_offsets(tp)).get(tp)
        if earliest is not None and earliest > offset:
            log.warning(
                "%s[%d]: offsets %d to %d were deleted (retention) before this group read them; "
                "committing on from %d",
                tp.topic,
                tp.partition,
                offset,
                earliest - 1,
                earliest,
            )
            self._committed_offset[tp] = earliest
            return
        log.warning(
            "%s[%d]@%d was dropped unprocessed (faust cleared it from the agent's queue after a "
            "recovery); reading the partition again from it",
            tp.topic,
            tp.partition,
            offset,
        )
        await self.seek(tp, offset)


class Transport(faust_kafka.Transport):
    """faust's aiokafka transport with the strict consumer."""

    Consumer = StrictCommitConsumer
