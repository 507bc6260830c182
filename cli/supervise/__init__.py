"""Supervision for ``newswatch run``: restarts, stall detection, a bounded stop.

Consumes consumer-group offsets, produces nothing. The policy (:class:`RestartPolicy`) and the
loop (:class:`Supervisor`) take their processes, broker and offset probe as arguments, so they are
tested without any (tests/cli/test_supervise.py). One job per module: ``policy`` (backoff and
tries), ``progress`` (group lag, the stall probe), ``loop`` (the supervisor), ``stopping``
(SIGTERM then SIGKILL) and ``terminal`` (run's output lines and its signals). This package
re-exports what other code imports.
"""

from cli.supervise.loop import Broker, Supervisor, exit_cause
from cli.supervise.policy import GiveUp, Restart, RestartPolicy
from cli.supervise.progress import GroupProgress, Progress
from cli.supervise.stopping import KILL_GRACE_S, Proc, kill_group, stop_workers
from cli.supervise.terminal import Interrupts, say, silence_stdout

__all__ = [
    "KILL_GRACE_S",
    "Broker",
    "GiveUp",
    "GroupProgress",
    "Interrupts",
    "Proc",
    "Progress",
    "Restart",
    "RestartPolicy",
    "Supervisor",
    "exit_cause",
    "kill_group",
    "say",
    "silence_stdout",
    "stop_workers",
]
