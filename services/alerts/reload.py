"""Hot reload of the alerts rules: the RuleSet in force, reloaded on change.

Consumes the rules file and the files its rules read (examples, their classifiers' artefacts; a
stat of each at most once per interval, at message time), produces the RuleSet in force; logs each
change.

Why at message time and inside the handler: the handler runs in an isolated child process
(shared/worker/isolate.py) that only wakes for a message, so the check is one ``os.stat`` per interval
on the message path, and a rules change is in force for the next message. An invalid file is
rejected with an ERROR line naming file, rule and field; the previous rules stay in force.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from services.alerts.compile import RuleSet, rule_summary
from services.alerts.rules import RulesError

log = logging.getLogger("newswatch")

Stamp = tuple[tuple[int, int, int] | None, ...]


class ReloadingRules:
    """The rules of one file, reloaded when it or a file it reads changes (checked at most every ``check_s`` seconds)."""

    def __init__(
        self,
        path: Path,
        load: Callable[[Path], RuleSet],
        *,
        check_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Load the rules of ``path`` with ``load``; an invalid file here raises (nothing to fall back on)."""
        self.path = path
        self._load = load
        self.check_s = check_s
        self._clock = clock
        # An invalid file at start stops the worker: nothing to fall back on.
        self.rules = load(path)
        self._watched = self._files(self.rules)
        self._stamp = _stamp(self._watched)
        self._digest = _digest(self._watched)
        self._checked = clock()
        self.reloads = 0
        self.rejected = 0
        log.info("alerts: rules loaded from %s: %s", path, rule_summary(self.rules))

    def current(self) -> RuleSet:
        """The rules in force, after a reload if the file changed since the last look."""
        now = self._clock()
        if now - self._checked < self.check_s:
            return self.rules
        self._checked = now
        stamp = _stamp(self._watched)
        if stamp == self._stamp:
            return self.rules
        self._stamp = stamp
        digest = _digest(self._watched)
        if digest == self._digest:
            return self.rules  # touched, not changed
        try:
            rules = self._load(self.path)
        except RulesError as error:
            self.rejected += 1
            log.error("alerts: rules file rejected, the previous rules stay in force: %s", error)
            return self.rules
        self.rules = rules
        self._watched = self._files(rules)
        self._stamp = _stamp(self._watched)
        self._digest = _digest(self._watched)
        self.reloads += 1
        log.warning("alerts: rules reloaded from %s: %s", self.path, rule_summary(rules))
        return rules

    def _files(self, rules: RuleSet) -> tuple[Path, ...]:
        return tuple(dict.fromkeys([self.path, *getattr(rules, "files", ())]))


def _stamp(paths: tuple[Path, ...]) -> Stamp:
    stamps: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            stamps.append(None)
            continue
        stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


def _digest(paths: tuple[Path, ...]) -> str:
    hashed = hashlib.sha256()
    for path in paths:
        try:
            hashed.update(path.read_bytes())
        except OSError:
            hashed.update(b"\0missing")
        hashed.update(b"\0")
    return hashed.hexdigest()
