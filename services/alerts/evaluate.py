"""Alerts evaluation: EnrichedArticle in, one Alert per rule and sentence out.

Consumes EnrichedArticle, produces Alert (per rule and sentence, the title included, with a
frame); no DLQ. A compiled ``RuleSet`` (``services.alerts.compile``) is evaluated on the
article's sentences and its title; ``services.alerts.frame`` reads who moved where, how many,
with what, and how it was said. The spaCy pipeline (with parser and lemmatizer) is passed in
through ``make_parser``; only sentences that pass a rule's cheap ``candidates`` test are parsed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from services.alerts.compile import CompiledRule, RuleSet
from services.alerts.extensions import register_extensions
from services.alerts.frame import extract_frames
from services.alerts.pronouns import resolve_pronouns
from services.alerts.rules import ArticleTest, Condition, Rule
from shared.schemas.articles import Alert, EnrichedArticle, Entity, Frame
from shared.text import headline_case

# Fixed namespace: an alert id is uuid5(rule, article, sentence), identical on every replay.
ALERT_NAMESPACE = uuid.UUID("5d6f1c9e-3b8a-4f57-9a51-2f0e6c1d7b42")
# The title is evaluated like a sentence, with this index: body sentences keep their own indices
# (and the ids of alerts raised on them before titles were read).
TITLE_INDEX = -1
# Pipes a body sentence does not need: its entities come from the entities stage.
_NER_PIPES = ("ner", "domain_ruler")


@dataclass
class _Sentence:
    """One sentence (or the title) under evaluation: text, entities, the lazily parsed doc, cached matches."""

    index: int
    text: str
    seen: bool
    entities: list[Entity]
    offset: int  # where the text starts in the article text (entity offsets); 0 for the title
    doc: Doc | None = None
    by_token: dict[int, Entity] = field(default_factory=dict)
    _matches: dict[tuple[str, str], dict[str, list[tuple[int, ...]]]] = field(default_factory=dict)

    @property
    def labels(self) -> set[str]:
        return {e.label for e in self.entities}

    def matches(self, rule: CompiledRule, kind: str) -> dict[str, list[tuple[int, ...]]]:
        """Matches of the rule's token or dependency patterns: set name -> token index tuples."""
        key = (rule.id, kind)
        if key not in self._matches:
            assert self.doc is not None
            found: dict[str, list[tuple[int, ...]]] = defaultdict(list)
            strings = self.doc.vocab.strings
            if kind == "tokens":
                for match_id, start, end in rule.matcher(self.doc):
                    found[strings[match_id]].append(tuple(range(start, end)))
            else:
                for match_id, token_ids in rule.dep_matcher(self.doc):
                    found[strings[match_id]].append(tuple(token_ids))
            self._matches[key] = found
        return self._matches[key]


Parse = Callable[[list[str], list[bool]], list[Doc]]


def make_parser(nlp: Language, batch_size: int = 64, max_chars: int = 1_000) -> Parse:
    """A parse function over ``nlp``: body sentences without NER (their entities come with the article), titles with it.

    A "sentence" longer than ``max_chars`` (news sentences have 100-400 characters; longer ones
    are run-on text without stops) is parsed up to there only: the dependency matcher's time grows
    faster than linearly with the matches in one sentence (adversarial "forces pull out forces
    pull out ...": 0.5 s at 1,000 characters, 1.6 s at 2,000), so one sentence stays bounded.
    """
    register_extensions()  # _attach writes token._.country, resolve_pronouns token._.antecedent
    body_disabled = [p for p in _NER_PIPES if p in nlp.pipe_names]

    def parse(texts: list[str], with_ner: list[bool]) -> list[Doc]:
        texts = [t[:max_chars] for t in texts]
        docs: dict[int, Doc] = {}
        plain = [i for i, ner in enumerate(with_ner) if not ner]
        named = [i for i, ner in enumerate(with_ner) if ner]
        if plain:
            with nlp.select_pipes(disable=body_disabled):
                for i, doc in zip(
                    plain, nlp.pipe((texts[i] for i in plain), batch_size=batch_size), strict=True
                ):
                    docs[i] = doc
        for i, doc in zip(
            named, nlp.pipe((texts[i] for i in named), batch_size=batch_size), strict=True
        ):
            docs[i] = doc
        return [docs[i] for i in range(len(texts))]

    return parse


@dataclass
class Evaluation:
    """What :func:`evaluate` did: its alerts, and how many sentences it looked at and parsed."""

    alerts: list[Alert]
    sentences: int
    parsed: int
    scored: int = 0  # (sentence, rule) pairs a classifier scored


def evaluate(
    article: EnrichedArticle, rules: RuleSet, parse: Parse, *, fired_at: datetime
) -> list[Alert]:
    """Return one Alert per (rule, sentence) that fires, the title first (index -1), then sentence order."""
    return evaluate_counted(article, rules, parse, fired_at=fired_at).alerts


def evaluate_counted(
    article: EnrichedArticle, rules: RuleSet, parse: Parse, *, fired_at: datetime
) -> Evaluation:
    """:func:`evaluate`, also counting the sentences seen and parsed (for the benchmark).

    A rule with ``new_only`` skips sentences marked ``seen`` upstream: a sentence repeated from
    an earlier article is not a new mention, and it already alerted there. A rule that needs the
    parse looks only at sentences that pass its ``candidates`` (or, with ``follow``, come right
    after one that does); only those are parsed, in one batch, and their pronouns resolved.
    """
    sentences = list(_sentences(article))
    # (sentence, rule) pairs still in play once the cheap tests are done
    todo: list[tuple[_Sentence, CompiledRule]] = []
    # body sentences a rule's candidates admitted by their own words or entities, by rule id
    admitted: dict[str, set[int]] = defaultdict(set)
    for sent in sentences:
        for rule in rules.rules:
            cand = rule.rule.candidates
            own = cand is None or cand.admit(sent.text, sent.labels)
            if own:
                admitted[rule.id].add(sent.index)
            if rule.rule.new_only and sent.seen:
                continue
            if sent.index == TITLE_INDEX and not rule.rule.headline:
                continue
            if (
                (rule.needs_parse or rule.classifier is not None)
                and cand is not None
                and not own
                and not (
                    sent.index > 0
                    and sent.index - 1 in admitted[rule.id]
                    and cand.follows(sent.text)
                )
            ):
                continue
            todo.append((sent, rule))
    to_parse = [s for s in sentences if any(s is t and r.needs_parse for t, r in todo)]
    if to_parse:
        docs = parse(
            [
                headline_case(s.text, article.text) if s.index == TITLE_INDEX else s.text
                for s in to_parse
            ],
            [s.index == TITLE_INDEX for s in to_parse],
        )
        for sent, doc in zip(to_parse, docs, strict=True):
            _attach(sent, doc, article.entities, article.title_entities)
        # a pronoun may stand for the subject of the sentence before, when that one was parsed too
        parsed = {s.index: s.doc for s in to_parse}
        for sent in to_parse:
            assert sent.doc is not None
            previous = parsed.get(sent.index - 1) if sent.index > 0 else None
            resolve_pronouns(sent.doc, previous)
    syntax = [_syntax(sent, rule, article) for sent, rule in todo]
    scores = _scores(todo, syntax, rules, article.text)
    alerts: list[Alert] = []
    for n, (sent, rule) in enumerate(todo):
        fired = _fire(sent, rule, syntax[n], scores.get(n))
        if fired is not None:
            alerts.append(_make_alert(article, sent, rule.rule, fired, fired_at))
    return Evaluation(alerts, len(sentences), len(to_parse), len(scores))


@dataclass
class _Syntax:
    """A rule's conditions on one sentence: whether they all held, and the matches of those that did."""

    held: bool
    hits: list[tuple[int, ...]]


def _syntax(sent: _Sentence, rule: CompiledRule, article: EnrichedArticle) -> _Syntax | None:
    """The conditions evaluated (None: the rule needs the parse and the sentence was not parsed)."""
    if rule.needs_parse and sent.doc is None:
        return None
    hits: list[tuple[int, ...]] = []
    # Every condition is evaluated (no short cut): the matches of those that hold build the frame.
    held = [_holds(c, sent, rule, article, hits) for c in rule.rule.conditions]
    return _Syntax(bool(held) and all(held), hits)


def _scores(
    todo: list[tuple[_Sentence, CompiledRule]],
    syntax: list[_Syntax | None],
    rules: RuleSet,
    article_text: str,
) -> dict[int, float]:
    """P(fire) of each (sentence, rule) pair whose rule has a classifier, by its place in ``todo``.

    Where the rule's conditions matched, the clause of the first match (its head word's subtree)
    is scored too, and the higher of the two counts: in a long sentence of gunfire in which
    "troops rolled back into the city", the sentence reads as combat and the clause as a movement.
    Each distinct text is embedded once, in one batch, whatever the rules that score it.
    """
    # A rule deciding by both needs no score where its conditions failed: it stays silent there.
    wanted = [
        n
        for n, ((_, rule), found) in enumerate(zip(todo, syntax, strict=True))
        if rule.classifier is not None
        and not (rule.deciding == "both" and (found is None or not found.held))
    ]
    if not wanted:
        return {}
    if rules.embed is None:
        raise RuntimeError("rules by example need the sentence embedder (load_rules(embed=...))")
    texts: dict[int, list[str]] = {}
    for n in wanted:
        sent = todo[n][0]
        own = headline_case(sent.text, article_text) if sent.index == TITLE_INDEX else sent.text
        texts[n] = [own, *_clause(sent, syntax[n])]
    distinct = sorted({text for each in texts.values() for text in each})
    vectors = dict(zip(distinct, rules.embed(distinct), strict=True))
    scores: dict[int, float] = {}
    for n in wanted:
        classifier = todo[n][1].classifier
        assert classifier is not None
        found = classifier.probabilities(np.vstack([vectors[text] for text in texts[n]]))
        scores[n] = float(found.max())
    return scores


def _clause(sent: _Sentence, syntax: _Syntax | None) -> list[str]:
    """The text of the first match's clause, when the conditions held and it is not the sentence."""
    if syntax is None or not syntax.held or not syntax.hits or sent.doc is None:
        return []
    head = sent.doc[syntax.hits[0][0]]
    clause = sent.doc[head.left_edge.i : head.right_edge.i + 1].text
    return [clause] if len(clause.split()) >= 3 and clause != sent.doc.text else []


def _sentences(article: EnrichedArticle) -> Iterator[_Sentence]:
    by_sentence: dict[int, list[Entity]] = defaultdict(list)
    for entity in article.entities:
        by_sentence[entity.sentence].append(entity)
    if article.title and article.title.strip():
        # The entities stage's title entities (with countries) admit the title by their labels
        # too; the parse's NER adds what they miss (see _attach).
        yield _Sentence(
            TITLE_INDEX, article.title.strip(), False, list(article.title_entities or []), 0
        )
    for s in article.sentences:
        yield _Sentence(s.index, s.text, s.seen, by_sentence.get(s.index, []), s.start)


def _attach(
    sent: _Sentence, doc: Doc, body_entities: list[Entity], given: list[Entity] | None = None
) -> None:
    """Put the sentence's entities on the doc (labels for patterns, countries on tokens); ``given``: the title's from the entities stage."""
    if sent.index == TITLE_INDEX:
        sent.entities = title_entities(doc, sent.text, body_entities, given)
    spans: list[tuple[Span, Entity]] = []
    for entity in sent.entities:
        span = doc.char_span(
            entity.start - sent.offset,
            entity.end - sent.offset,
            label=entity.label,
            alignment_mode="expand",
        )
        if span is not None and len(span):
            spans.append((span, entity))
    kept = set(filter_spans([s for s, _ in spans]))
    ents = []
    for span, entity in spans:
        if span in kept:
            ents.append(span)
            for token in span:
                sent.by_token[token.i] = entity
                if entity.country:
                    token._.country = entity.country
    doc.ents = sorted(ents, key=lambda s: s.start)
    sent.doc = doc


@dataclass
class _Fired:
    frames: list[Frame]
    tokens: list[tuple[int, ...]]


def _fire(
    sent: _Sentence, rule: CompiledRule, syntax: _Syntax | None, score: float | None
) -> _Fired | None:
    """Whether the rule fires on the sentence, deciding as the rule says, and with which frames."""
    deciding = rule.deciding
    by_example = (
        score is not None and rule.classifier is not None and score >= rule.classifier.threshold
    )
    if deciding in ("examples", "both") and not by_example:
        return None
    if syntax is None:
        return None
    hits = syntax.hits
    by_syntax = syntax.held
    if deciding in ("syntax", "both") and not by_syntax:
        return None
    if deciding == "either" and not (by_syntax or by_example):
        return None
    spec = rule.rule.frame
    if spec is None or sent.doc is None:
        return _Fired([], hits)
    found = extract_frames(
        sent.doc, hits, sent.by_token, spec.actions, spec.force, spec.force_labels, sent.entities
    )
    kept = [f for f in found if f.modality not in spec.drop_modalities]
    if found and not kept:
        return None  # every movement in it is denied or negated
    return _Fired(kept, hits)


def _holds(
    cond: Condition,
    sent: _Sentence,
    rule: CompiledRule,
    article: EnrichedArticle,
    hits: list[tuple[int, ...]],
    *,
    positive: bool = True,
) -> bool:
    """Whether ``cond`` holds; token matches of positive conditions are added to ``hits``."""
    if cond.tokens is not None or cond.dependency is not None:
        kind, name = (
            ("tokens", cond.tokens) if cond.tokens is not None else ("dependency", cond.dependency)
        )
        assert name is not None
        found = sent.matches(rule, kind).get(name, [])
        if found and positive:
            hits.extend(found)
        return bool(found)
    if cond.regex is not None:
        return cond._regex.search(sent.text) is not None
    if cond.entity is not None:
        test = cond.entity
        return any(
            (not test.labels or e.label in test.labels)
            and (not test.countries or e.country in test.countries)
            for e in sent.entities
        )
    if cond.article is not None:
        return _article_passes(cond.article, article)
    if cond.not_ is not None:
        return not _holds(cond.not_, sent, rule, article, hits, positive=not positive)
    if cond.any_ is not None:
        results = [_holds(c, sent, rule, article, hits, positive=positive) for c in cond.any_]
        return any(results)
    assert cond.all_ is not None
    return all(_holds(c, sent, rule, article, hits, positive=positive) for c in cond.all_)


def _article_passes(test: ArticleTest, article: EnrichedArticle) -> bool:
    for wanted, value in ((test.language, article.language), (test.source, article.source)):
        if not wanted:
            continue
        if value is None:
            if not test.allow_unknown:
                return False
        elif value.lower() not in {w.lower() for w in wanted}:
            return False
    return True


def alert_id(rule_id: str, article_id: str, sentence_index: int) -> str:
    """Return the stable id of an alert: the same rule, article and sentence give the same id."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{rule_id}\x1f{article_id}\x1f{sentence_index}"))


def _make_alert(
    article: EnrichedArticle, sent: _Sentence, rule: Rule, fired: _Fired, fired_at: datetime
) -> Alert:
    return Alert(
        alert_id=alert_id(rule.id, article.article_id, sent.index),
        rule_id=rule.id,
        rule_name=rule.name,
        severity=rule.severity,
        article_id=article.article_id,
        sentence_index=sent.index,
        evidence=sent.text,
        entities=sent.entities,
        frame=fired.frames[0] if fired.frames else None,
        frames=fired.frames,
        title=article.title,
        url=article.url,
        source=article.source,
        language=article.language,
        published_at=article.published_at,
        ingested_at=article.ingested_at,
        story_id=getattr(article, "story_id", None),
        story_size=getattr(article, "story_size", None),
        fired_at=fired_at,
    )


def title_entities(
    doc: Doc, title: str, body_entities: Sequence[Entity], given: Sequence[Entity] | None = None
) -> list[Entity]:
    """The title's entities: those the entities stage found in it (``given``), then the parse's NER where they are silent.

    A name the parse finds takes country, canonical name and category from the same name in the
    title's or the body's entities. Offsets are into the title; ``sentence`` is -1. ``given`` is
    None for messages written before the entities stage read titles.
    """
    known: dict[str, Entity] = {}
    for ent in [*(given or ()), *body_entities]:
        known.setdefault(ent.text.lower(), ent)
    out: list[Entity] = list(given or ())
    taken = [(e.start, e.end) for e in out]
    for span in doc.ents:
        if any(span.start_char < end and start < span.end_char for start, end in taken):
            continue
        text = title[span.start_char : span.end_char]
        same = known.get(text.lower())
        label = same.label if same is not None else span.label_
        out.append(
            Entity(
                text=text,
                label=label,
                start=span.start_char,
                end=span.end_char,
                sentence=-1,
                canonical=same.canonical if same is not None else span.ent_id_ or None,
                country=same.country if same is not None else None,
                place_kind=same.place_kind if same is not None else None,
                category=same.category if same is not None else None,
            )
        )
    return out
