"""The extractor interface: a RawArticle in, the drafts of its stories (text and metadata) out; pure.

An extractor reads one input format. ``core.clean_article`` asks each extractor of an ordered
list, in turn, whether it ``accepts`` the raw article, and lets the first that does ``extract``
it (the way presidio runs its recognizers from a registry). Ids, URLs, source, publication date,
language and the size limit on clean text are then decided once, in the core, for every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shared.schemas import RawArticle


@dataclass(frozen=True)
class Draft:
    """One story on its way to a ``CleanArticle``: clean paragraphs and what its text says.

    ``dates`` are absolute publication dates in the order found (None where a date line did not
    parse), ``relative_dates`` the "N hours ago" ones resolved at the ingest time; the core picks
    the first that is not in the future. ``host`` is the page's host name when the format has one.
    """

    paragraphs: list[str]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    dates: list[datetime | None] = field(default_factory=list)
    relative_dates: list[datetime | None] = field(default_factory=list)
    url: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class ExtractContext:
    """What every extraction may need besides the input: plain values, given by the caller.

    ``now`` is the (timezone-aware) ingest time; ``detector`` is the lingua detector or None;
    ``max_lines`` and ``max_html_tags`` bound the work on one input (None: no limit), each read
    by the extractor whose cost they bound.
    """

    now: datetime
    detector: Any = None
    max_lines: int | None = None
    max_html_tags: int | None = None


class Extractor(Protocol):
    """One input format: its name, whether it reads a raw article, and how.

    ``name`` is a short word ("html", "sgml", "text"), named in the ``empty_after_cleaning``
    dead letter's detail.
    """

    @property
    def name(self) -> str:
        """The format's word."""
        ...

    def accepts(self, raw: RawArticle) -> bool:
        """Whether this extractor reads ``raw`` (cheap: a look at the input, no parsing)."""
        ...

    def extract(self, raw: RawArticle, context: ExtractContext) -> list[Draft]:
        """Return the drafts of the stories in ``raw``, in input order (empty: no story text).

        Called only after ``accepts(raw)`` returned True.

        Raises:
            Reject: ``too_long`` when the input is over a limit of ``context`` that this
                format reads.
        """
        ...
