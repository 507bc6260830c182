"""The domain ruler: a spaCy EntityRuler of the gazetteer, added before the NER."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc

# Imported for its spaCy factory, "newswatch_personnel", which add_domain_ruler adds.
from services.entities import personnel  # noqa: F401
from services.entities.gazetteer import (
    ENT_ID_SEP,
    GAZETTEER_PATH,
    NOT_DOMAIN,
    Gazetteer,
    cached_gazetteer,
    load_gazetteer,
)

RULER_NAME = "domain_ruler"
PERSONNEL_NAME = "personnel"
# Where add_domain_ruler records in nlp.meta which gazetteer file the ruler was built from.
_GAZETTEER_META = "_newswatch_gazetteer"


def add_domain_ruler(nlp: Language, gazetteer: Path | None = None) -> DomainRuler:
    """Add (once) the gazetteer EntityRuler to ``nlp``, before ``ner`` when the pipeline has one.

    Before ``ner`` with ``overwrite_ents=False``: the statistical model then predicts around the
    domain spans instead of splitting "An-124" into a PRODUCT or ORG of its own.
    """
    if RULER_NAME in nlp.pipe_names:
        return nlp.get_pipe(RULER_NAME)  # type: ignore[return-value]
    gaz = load_gazetteer(gazetteer, nlp=nlp)
    nlp.meta[_GAZETTEER_META] = str(gazetteer or GAZETTEER_PATH)
    where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
    ruler = nlp.add_pipe(
        "newswatch_domain_ruler",
        name=RULER_NAME,
        config={
            "overwrite_ents": False,
            "validate": True,
            "phrase_matcher_attr": "LOWER",
            "ent_id_sep": ENT_ID_SEP,
        },
        **where,  # type: ignore[arg-type]
    )
    ruler = cast(DomainRuler, ruler)
    ruler.add_patterns(list(gaz.patterns))
    ruler.set_rules(gaz)
    # Intern labels and ids now, outside any memory zone: a string first seen inside
    # ``nlp.memory_zone()`` is freed on exit, yet ``ner`` keeps a transition for each preset
    # label it meets, and would then fail to name it (spaCy E018).
    for pattern in gaz.patterns:
        nlp.vocab.strings.add(pattern["label"])
        if pattern.get("id"):
            nlp.vocab.strings.add(pattern["id"])
    # Personnel mentions overlap the NER's entities ("about 100 Russian soldiers" holds the NORP
    # "Russian"), so they go to doc.spans, after ner, not to doc.ents.
    if PERSONNEL_NAME not in nlp.pipe_names:
        nlp.add_pipe("newswatch_personnel", name=PERSONNEL_NAME, last=True)
    return ruler  # type: ignore[return-value]


def gazetteer_of(nlp: Language) -> Gazetteer:
    """The gazetteer ``nlp``'s domain ruler was built from (the default file if it has none).

    The canonical names and categories live in the same files as the ruler's patterns; reading
    them from the file the ruler was built from keeps both in agreement.
    """
    path = nlp.meta.get(_GAZETTEER_META)
    return cached_gazetteer(Path(path) if path else GAZETTEER_PATH)


class DomainRuler(EntityRuler):
    """spaCy's EntityRuler, keeping only the matches written in the case the vocabulary requires,
    dropping the :data:`NOT_DOMAIN` phrases (after they have won over the nouns inside them), and
    cutting an owned noun's match to the noun ("ISIL vehicles" -> "vehicles").

    Every pattern is a phrase pattern on ``LOWER`` where it can be (a hash lookup per token); the
    case of the few cased names and acronyms is checked here, per match, not per token.
    """

    def __init__(self, nlp: Language, name: str, **config: Any) -> None:
        super().__init__(nlp, name, **config)
        self._exact_case: dict[str, frozenset[tuple[str, ...]]] = {}
        self._any_case: dict[str, frozenset[tuple[str, ...]]] = {}
        self._head_only: frozenset[str] = frozenset()

    def set_rules(self, gazetteer: Gazetteer) -> None:
        """Take the case rules and the head-only keys of ``gazetteer`` (see :class:`Gazetteer`)."""
        self._exact_case, self._any_case = gazetteer.exact_case, gazetteer.any_case
        self._head_only = gazetteer.head_only

    def match(self, doc: Doc) -> list[tuple[int, int, int]]:
        """The EntityRuler's matches (key, start, end), kept, dropped or cut by the rules above."""
        strings = self.nlp.vocab.strings
        kept: list[tuple[int, int, int]] = []
        taken: list[tuple[int, int]] = []  # token ranges of NOT_DOMAIN phrases
        for key, start, end in super().match(doc):  # longest first, as set_annotations wants
            name = strings[key]
            if name == NOT_DOMAIN:
                taken.append((start, end))
                continue
            if any(s < end and start < e for s, e in taken):
                continue
            forms = self._exact_case.get(name)
            if forms is not None:
                tokens = tuple(t.text for t in doc[start:end])
                lowered = tuple(t.lower() for t in tokens)
                if tokens not in forms and lowered not in self._any_case.get(name, ()):
                    continue
            kept.append((key, end - 1 if name in self._head_only else start, end))
        return kept


@Language.factory(
    "newswatch_domain_ruler",
    assigns=["doc.ents", "token.ent_type", "token.ent_iob"],
    default_config={
        "phrase_matcher_attr": "LOWER",
        "validate": True,
        "overwrite_ents": False,
        "ent_id_sep": ENT_ID_SEP,
    },
)
def make_domain_ruler(
    nlp: Language,
    name: str,
    phrase_matcher_attr: str,
    validate: bool,
    overwrite_ents: bool,
    ent_id_sep: str,
) -> DomainRuler:
    """spaCy factory of :class:`DomainRuler` (patterns are added by :func:`add_domain_ruler`)."""
    return DomainRuler(
        nlp,
        name,
        phrase_matcher_attr=phrase_matcher_attr,
        validate=validate,
        overwrite_ents=overwrite_ents,
        ent_id_sep=ent_id_sep,
    )
