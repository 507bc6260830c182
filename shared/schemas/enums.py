"""The closed vocabularies of the message fields and dead letters.

Each is spelled once, here. Literal aliases, not enum classes: a value is the same plain
string in a model, in its JSON and in code, so the records stay byte-identical, and mypy checks
every spelled value against its alias (a misspelt ``Reject("timeuot")`` or ``action == "withdrawl"`` in a typed place fails).
``typing.get_args`` gives the values where code needs them at run time.
"""

from __future__ import annotations

from typing import Literal

# How urgent an alert of a rule is (the rules file's ``severity``).
Severity = Literal["low", "medium", "high", "critical"]

# What a frame says the force did (the rules file's ``frame.actions`` keys).
Action = Literal["deploy", "arrive", "withdraw", "mobilise", "reinforce", "reduce"]

# How a sentence presents the movement. fact: reported as happening or done; plan:
# will/intends/agreed; offer: ready/offered/pledged; demand: urged/called for/asked; denial:
# negated, denied or refused.
Modality = Literal["fact", "plan", "offer", "demand", "denial"]

# A movement's direction: sending troops to a place, their arrival there and reinforcing them
# are one movement told at different moments (the Caracas seeds say "sent", "arrived", "landed",
# "reinforce the contingent"); a withdrawal or reduction is the opposite movement; a call-up is
# its own. Events are keyed by it (services/alerts/events) and alerts partitioned by it.
Direction = Literal["in", "out", "mobilise"]
DIRECTIONS: dict[Action, Direction] = {
    "deploy": "in",
    "arrive": "in",
    "reinforce": "in",
    "withdraw": "out",
    "reduce": "out",
    "mobilise": "mobilise",
}
# The direction of a frame without an action, or of an alert without a frame.
NoMovement = Literal["-"]
NO_MOVEMENT: NoMovement = "-"

# What kind of place a place entity is.
PlaceKind = Literal["country", "region", "city"]

# Why a message was dead-lettered (``Reject(reason)``, ``shared.errors.classify``): a bounded
# set, since it is the ``reason`` label of news_dead_letters_total. ``DeadLetter.reason`` stays
# a ``str`` on the wire (records written before a word was added still read).
DeadLetterReason = Literal[
    # any service (shared.errors.classify, the runners)
    "invalid_json",  # the bytes were not JSON
    "invalid_schema",  # JSON that is not the topic's model
    "not_utf8",
    "internal_error",  # a bug on one message
    "timeout",  # an isolated stage ran past its budget
    "stage_crashed",  # an isolated stage's process died
    "output_too_large",  # an output larger than its topic takes
    # clean
    "oversize",
    "binary",
    "empty",
    "not_an_object",
    "too_long",
    "empty_after_cleaning",
    # dedup
    "missing_id",
    "empty_text",
]

__all__ = [
    "DIRECTIONS",
    "NO_MOVEMENT",
    "Action",
    "DeadLetterReason",
    "Direction",
    "Modality",
    "NoMovement",
    "PlaceKind",
    "Severity",
]
