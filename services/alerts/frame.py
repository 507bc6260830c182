"""Frames: who moved, how, where, how many and with what.

From a matched, parsed sentence, read off the dependency parse, PETRARCH-style: the movement
word a match found (the trigger), the force (personnel noun or PERSONNEL/MILITARY_UNIT entity),
its owner and the place
(``services.alerts.parties``), the count (the entities stage's, else the number modifying the
force), the named equipment and the modality (``services.alerts.modality``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from spacy.tokens import Doc, Token

from services.alerts.modality import modality_of
from services.alerts.parties import resolve_actor, resolve_place
from shared.schemas.articles import Entity, Frame, FrameParty
from shared.schemas.enums import Action

EQUIPMENT_LABELS = frozenset({"AIRCRAFT", "VESSEL", "WEAPON", "VEHICLE"})
_NUMBERS = {
    w: n
    for n, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBERS |= {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "dozen": 12,
}
_MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def extract_frames(
    doc: Doc,
    hits: Sequence[tuple[int, ...]],
    by_token: Mapping[int, Entity],
    actions: Mapping[Action, Iterable[str]],
    force_lemmas: Iterable[str],
    force_labels: Iterable[str],
    entities: Sequence[Entity],
) -> list[Frame]:
    """One frame per distinct movement among the matches (``hits``: token indices of each match), in sentence order."""
    lexicon = _lexicon(actions)
    force_set = {f.lower() for f in force_lemmas}
    labels = set(force_labels)
    found: dict[int, Frame] = {}
    for hit in sorted(hits):
        tokens = [doc[i] for i in hit]
        trigger = next((t for t in tokens if action_of(t, lexicon)), None)
        force = next((t for t in tokens if _is_force(t, force_set, labels, by_token)), None)
        anchor = trigger or force
        if anchor is None or anchor.i in found:
            continue
        if force is None and trigger is not None:
            force = _force_near(trigger, force_set, labels, by_token)
        action = action_of(trigger, lexicon) if trigger is not None else None
        destination = None
        if action == "withdraw" and trigger is not None:
            # "left Nigeria for Darfur", "left their base, heading north toward Baghdad": a
            # departure towards somewhere is a movement into it
            destination = departure_destination(trigger, by_token)
            if destination is not None or _leaves_a_post(trigger):
                action = "deploy"
        actor_tok, actor = resolve_actor(force, trigger, action, by_token, entities)
        place = destination or resolve_place(
            trigger,
            force,
            action,
            by_token,
            exclude=actor_tok,
            actor_country=actor.country if actor is not None else None,
        )
        found[anchor.i] = Frame(
            actor=actor,
            action=action,
            place=place,
            count=_count(force, by_token) if force is not None else None,
            equipment=_equipment(entities),
            modality=modality_of(trigger, force),
            trigger=trigger.text if trigger is not None else None,
            force=force.text if force is not None else None,
        )
    out = [found[i] for i in sorted(found)]
    # a match that names only the force ("troops" beside "announced their withdrawal") is no movement of its own
    moved = [f for f in out if f.action is not None]
    return moved or out


# Verbs of departure, and the verbs a departure heads on with ("left ..., heading north toward").
_DEPARTURES = frozenset({"leave", "depart", "quit", "exit"})
_HEADING = frozenset(
    {"head", "move", "go", "drive", "march", "travel", "roll", "fly", "sail", "bind"}
)
_TOWARDS = frozenset({"for", "to", "toward", "towards", "into"})
# What a force leaves when it moves rather than withdraws: its own post, not a territory.
_POSTS = frozenset({"base", "barracks", "camp", "garrison", "post", "position", "headquarters"})
_PLACES = frozenset({"GPE", "LOC", "FAC"})


def departure_destination(trigger: Token, by_token: Mapping[int, Entity]) -> FrameParty | None:
    """Where a departure goes: a place after "for", "to" or "toward" on the departing verb or on a verb of heading below it."""
    if trigger.lemma_.lower() not in _DEPARTURES:
        return None
    heads = [trigger] + [
        c
        for c in trigger.children
        if c.dep_ in ("advcl", "xcomp", "conj", "acl") and c.lemma_.lower() in _HEADING
    ]
    for head in heads:
        for prep in head.children:
            if prep.dep_ != "prep" or prep.lower_ not in _TOWARDS:
                continue
            for obj in prep.children:
                entity = by_token.get(obj.i)
                if obj.dep_ == "pobj" and entity is not None and entity.label in _PLACES:
                    return FrameParty(text=entity.text, country=entity.country)
    return None


def _leaves_a_post(trigger: Token) -> bool:
    # "soldiers were leaving their base": a move from a post, not a withdrawal from a place
    return trigger.lemma_.lower() in _DEPARTURES and any(
        c.dep_ == "dobj" and c.lemma_.lower() in _POSTS for c in trigger.children
    )


def _lexicon(actions: Mapping[Action, Iterable[str]]) -> dict[str, list[tuple[str | None, Action]]]:
    # lemma -> [(particle or None, action)], phrasal entries first
    out: dict[str, list[tuple[str | None, Action]]] = {}
    for action, words in actions.items():
        for word in words:
            head, _, particle = word.lower().partition(" ")
            out.setdefault(head, []).append((particle or None, action))
    for entries in out.values():
        entries.sort(key=lambda e: e[0] is None)
    return out


def action_of(
    token: Token, lexicon: Mapping[str, list[tuple[str | None, Action]]]
) -> Action | None:
    """The action a token names: its lemma, with a particle when the entry has one ("pull out")."""
    entries = lexicon.get(token.lemma_.lower()) or lexicon.get(token.lower_)
    if not entries:
        return None
    nearby = {c.lower_ for c in token.children if c.dep_ in ("prt", "prep", "advmod", "compound")}
    doc = token.doc
    nearby |= {doc[j].lower_ for j in range(token.i + 1, min(token.i + 4, len(doc)))}
    for particle, action in entries:
        if particle is None or particle in nearby:
            return action
    return None


def _is_force(
    token: Token, lemmas: set[str], labels: set[str], by_token: Mapping[int, Entity]
) -> bool:
    if token.pos_ == "PRON":
        return token._.antecedent in lemmas  # "they", resolved to a force (resolve_pronouns)
    entity = by_token.get(token.i)
    if entity is not None and entity.label in labels:
        return token.pos_ in ("NOUN", "PROPN") or token.lemma_.lower() in lemmas
    return token.lemma_.lower() in lemmas and token.pos_ in ("NOUN", "PROPN")


def _force_near(
    trigger: Token, lemmas: set[str], labels: set[str], by_token: Mapping[int, Entity]
) -> Token | None:
    for token in trigger.subtree:
        if _is_force(token, lemmas, labels, by_token):
            return token
    return None


def _count(force: Token, by_token: Mapping[int, Entity]) -> int | None:
    entity = by_token.get(force.i)
    if entity is not None and entity.count:
        return entity.count
    candidates = [force]
    candidates += [
        p
        for c in force.children
        if c.dep_ == "prep" and c.lower_ == "of"
        for p in c.children
        if p.dep_ == "pobj"
    ]
    for noun in candidates:
        ent = by_token.get(noun.i)
        if ent is not None and ent.count:
            return ent.count
        for child in noun.children:
            if child.dep_ == "nummod":
                number = parse_number(
                    [t.lower_ for t in child.subtree if t.like_num or t.lower_ in _MULTIPLIERS]
                )
                if number is not None:
                    return number
    return None


def parse_number(words: Sequence[str]) -> int | None:
    """An integer from number words or digits ("4,000", "two hundred", "100"); None for vague ones ("hundreds")."""
    total, current = 0, 0
    if not words:
        return None
    for word in words:
        digits = word.replace(",", "")
        if digits.isdigit():
            current += int(digits)
        elif word in _NUMBERS:
            current += _NUMBERS[word]
        elif word in _MULTIPLIERS:
            current = max(current, 1) * _MULTIPLIERS[word]
            if _MULTIPLIERS[word] >= 1000:
                total, current = total + current, 0
        else:
            return None
    return (total + current) or None


def _equipment(entities: Sequence[Entity]) -> list[str]:
    # Named systems only ("Il-62", "HMS Ocean"): a class word ("aircraft", "transport aircraft")
    # says nothing the force and the action do not already say.
    names: list[str] = []
    for ent in entities:
        if ent.label in EQUIPMENT_LABELS:
            name = ent.canonical or ent.text
            if any(c.isdigit() or c.isupper() for c in name) and name not in names:
                names.append(name)
    return names
