"""Frames for the alerts core: consumes a parsed sentence (spaCy Doc), the rule's matches and the sentence's entities; produces Frame (who, action, where, how many, with what, modality).

Read off the dependency parse, PETRARCH-style: the movement word a match found (the trigger),
the force (personnel noun or PERSONNEL/MILITARY_UNIT entity), its owner (a people or country
modifying it, or the subject of the trigger or of a verb above it), the place (a GPE/LOC/FAC in
the trigger's phrase), the count (the entities stage's, else the number modifying the force) and
the modality (negation or a denial, demand, offer or plan verb governing the trigger). Countries
are never guessed here: they come from the entities stage (``Entity.country``) or stay None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from spacy.tokens import Doc, Token

from shared.schemas.articles import Entity, Frame, FrameParty

Action = Literal["deploy", "arrive", "withdraw", "mobilise", "reinforce", "reduce"]
Modality = Literal["fact", "plan", "offer", "demand", "denial"]

ACTOR_LABELS = frozenset({"NORP", "GPE", "ORG", "MILITARY_UNIT"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
EQUIPMENT_LABELS = frozenset({"AIRCRAFT", "VESSEL", "WEAPON", "VEHICLE"})

# Closed-class English words of modality, by what they make of the movement they govern. A
# frame's modality is a property of the language, not of one rule, so these live here.
_DENY = frozenset({"deny", "reject", "dismiss", "refute", "refuse", "decline", "rebuff", "denial",
                   "refusal", "rejection", "without"})
_DEMAND = frozenset({"urge", "demand", "call", "ask", "request", "press", "pressure",
                     "tell", "appeal", "plead", "want", "order", "push", "make", "force", "warn"})
_OFFER = frozenset({"offer", "pledge", "promise", "volunteer", "propose", "ready", "willing",
                    "prepared", "proposal"})
_PLAN = frozenset({"plan", "intend", "decide", "consider", "expect", "prepare", "aim", "schedule",
                   "mull", "weigh", "seek", "hope", "agree", "vow", "threaten", "set", "due",
                   "likely", "could", "may", "might", "will", "would", "shall", "'ll", "wo",
                   "going", "intention", "decision", "possible", "possibility"})
_FUTURE_AUX = frozenset({"will", "would", "shall", "'ll", "wo", "could", "may", "might", "ca"})
_NUMBERS = {w: n for n, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_NUMBERS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
             "ninety": 90, "dozen": 12}
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
        actor_tok, actor = _actor(force, trigger, by_token)
        place = _place(trigger, force, by_token, entities, exclude=actor_tok)
        found[anchor.i] = Frame(
            actor=actor,
            action=action_of(trigger, lexicon) if trigger is not None else None,
            place=place,
            count=_count(force, by_token) if force is not None else None,
            equipment=_equipment(entities),
            modality=modality(trigger, force),
            trigger=trigger.text if trigger is not None else None,
            force=force.text if force is not None else None,
        )
    return [found[i] for i in sorted(found)]


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


def action_of(token: Token, lexicon: Mapping[str, list[tuple[str | None, Action]]]) -> Action | None:
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


def _is_force(token: Token, lemmas: set[str], labels: set[str], by_token: Mapping[int, Entity]) -> bool:
    entity = by_token.get(token.i)
    if entity is not None and entity.label in labels:
        return token.pos_ in ("NOUN", "PROPN") or token.lemma_.lower() in lemmas
    return token.lemma_.lower() in lemmas and token.pos_ in ("NOUN", "PROPN")


def _force_near(trigger: Token, lemmas: set[str], labels: set[str],
                by_token: Mapping[int, Entity]) -> Token | None:
    for token in trigger.subtree:
        if _is_force(token, lemmas, labels, by_token):
            return token
    return None


def _owner(token: Token, by_token: Mapping[int, Entity]) -> Token | None:
    """The token of a people/country/organisation naming ``token`` or modifying it ("Russian troops", "Russia's")."""
    entity = by_token.get(token.i)
    if entity is not None and entity.label in ACTOR_LABELS and entity.label != "MILITARY_UNIT":
        return token
    for child in token.children:
        if child.dep_ in ("amod", "compound", "poss", "nmod", "npadvmod", "nummod"):
            ent = by_token.get(child.i)
            if ent is not None and ent.label in ("NORP", "GPE"):
                return child
        if child.dep_ == "prep" and child.lower_ in ("from", "of"):
            for pobj in child.children:
                ent = by_token.get(pobj.i)
                if pobj.dep_ == "pobj" and ent is not None and ent.label in ("NORP", "GPE"):
                    return pobj
    return None


def _actor(force: Token | None, trigger: Token | None,
           by_token: Mapping[int, Entity]) -> tuple[Token | None, FrameParty | None]:
    found: Token | None = None
    if force is not None:
        found = _owner(force, by_token)
    node = trigger or force
    steps = 0
    while found is None and node is not None and steps < 6:
        for child in node.children:
            if child.dep_ in ("nsubj", "nsubjpass", "agent") and child is not force:
                subject = child
                if child.dep_ == "agent":
                    subject = next((c for c in child.children if c.dep_ == "pobj"), child)
                found = _owner(subject, by_token)
                if found is not None:
                    break
        if node.head is node:
            break
        node, steps = node.head, steps + 1
    if found is None:
        # A people named anywhere in the sentence ("a Russian Il-62 ... carrying troops arrived").
        some = force or trigger
        for token in some.doc if some is not None else ():
            ent = by_token.get(token.i)
            if ent is not None and ent.label == "NORP":
                found = token
                break
    if found is None:
        return None, None
    entity = by_token[found.i]
    return found, FrameParty(text=entity.text, country=entity.country)


def _place(trigger: Token | None, force: Token | None, by_token: Mapping[int, Entity],
           entities: Sequence[Entity], *, exclude: Token | None) -> FrameParty | None:
    excluded = by_token.get(exclude.i) if exclude is not None else None
    actor_country = excluded.country if excluded is not None else None
    places: list[tuple[int, Entity]] = []
    seen: set[int] = set()
    for i, ent in sorted(by_token.items()):
        if ent.label in PLACE_LABELS and ent is not excluded and id(ent) not in seen:
            seen.add(id(ent))
            places.append((i, ent))
    if not places:
        return None
    # A place of the actor's own country is where a force comes from, rarely where it goes.
    places.sort(key=lambda p: bool(actor_country) and p[1].country == actor_country)
    some = trigger or force
    doc = some.doc if some is not None else None
    # "Venezuela, where Moscow sent personnel": the place is what the relative clause hangs on
    if trigger is not None and trigger.dep_ == "relcl" and any(c.lower_ == "where" for c in trigger.children):
        head = by_token.get(trigger.head.i)
        if head is not None and head.label in PLACE_LABELS:
            return FrameParty(text=head.text, country=head.country)
    roots = [t for t in (trigger, force) if t is not None]
    # first: the object of a preposition of place on the trigger or the force ("to Venezuela")
    for i, ent in places:
        token = doc[i] if doc is not None else None
        if (token is not None and token.dep_ == "pobj" and token.head.lower_ in _PLACE_PREPS
                and any(token.head.head == r or token.head.head.head == r for r in roots)):
            return FrameParty(text=ent.text, country=ent.country)
    for root in roots:
        inside = {t.i for t in root.subtree}
        for i, ent in places:
            if i in inside:
                return FrameParty(text=ent.text, country=ent.country)
    _, ent = places[0]
    return FrameParty(text=ent.text, country=ent.country)


_PLACE_PREPS = frozenset({"to", "into", "in", "at", "outside", "near", "from", "toward", "towards", "across",
                          "inside", "within", "through", "on"})


def _count(force: Token, by_token: Mapping[int, Entity]) -> int | None:
    entity = by_token.get(force.i)
    if entity is not None and entity.count:
        return entity.count
    candidates = [force]
    candidates += [p for c in force.children if c.dep_ == "prep" and c.lower_ == "of"
                   for p in c.children if p.dep_ == "pobj"]
    for noun in candidates:
        ent = by_token.get(noun.i)
        if ent is not None and ent.count:
            return ent.count
        for child in noun.children:
            if child.dep_ == "nummod":
                number = parse_number([t.lower_ for t in child.subtree if t.like_num or t.lower_ in _MULTIPLIERS])
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


def modality(trigger: Token | None, force: Token | None) -> Modality:
    """How the sentence presents the movement: denied, demanded, offered, planned or reported as fact.

    Negation on the trigger (or on a verb controlling it: "did not plan to send"), "no troops", and
    a denial word anywhere above it make a denial; otherwise the nearest demand, offer or plan word
    above it decides (a relative clause states its own fact: the walk stops there).
    """
    if force is not None and any(c.dep_ == "det" and c.lower_ == "no" for c in force.children):
        return "denial"
    node = trigger or force
    if node is None:
        return "fact"
    if any(c.dep_ == "mark" and c.lower_ in ("if", "unless") for c in node.children):
        return "demand"  # "... if Tokyo does not withdraw its troops": a condition set, a demand
    nearest: Modality | None = _kind(node.lemma_.lower()) if node.lemma_.lower() in _OFFER else None
    link = ""
    first = True
    steps = 0
    while node is not None and steps < 8:
        lemma = node.lemma_.lower()
        negated = any(c.dep_ == "neg" for c in node.children)
        if negated and (first or link in ("xcomp", "aux", "auxpass", "conj")):
            return "denial"
        if not first:
            if lemma in _DENY or (lemma == "rule" and any(c.lower_ == "out" for c in node.children)):
                return "denial"
            if nearest is None:
                nearest = _kind(lemma)
        if nearest is None:
            for child in node.children:
                if child.dep_ in ("aux", "auxpass") and child.lower_ in _FUTURE_AUX:
                    nearest = "plan"
                    break
        if link == "relcl" or node.head is node:
            break
        link, node, first, steps = node.dep_, node.head, False, steps + 1
        if link == "relcl" or (link == "conj" and node.pos_ in ("VERB", "AUX")):
            break  # a relative or a coordinated clause states its own fact
    return nearest or "fact"


def _kind(lemma: str) -> Modality | None:
    if lemma in _DEMAND:
        return "demand"
    if lemma in _OFFER:
        return "offer"
    if lemma in _PLAN:
        return "plan"
    return None


# --------------------------------------------------------------------------------- headlines


def headline_case(title: str, body: str) -> str:
    """A Title Case headline in sentence case, so the tagger and parser read it as a sentence (same length).

    Words the body writes capitalised (names: "Russian", "Caracas") keep their capital; a headline
    already in sentence case is returned as it is.
    """
    words = title.split()
    alpha = [w for w in words if w[:1].isalpha()]
    if not alpha or sum(w[:1].isupper() for w in alpha) < 0.6 * len(alpha):
        return title
    names = {w.strip("\"'‘’“”.,:;!?()") for w in body.split() if w[:1].isupper()}
    lowered = {w.strip("\"'‘’“”.,:;!?()").lower() for w in body.split() if w[:1].islower()}
    out = []
    for n, word in enumerate(title.split(" ")):
        bare = word.strip("\"'‘’“”.,:;!?()")
        keep = n == 0 or not bare or (bare in names and bare.lower() not in lowered) or bare.isupper() and len(bare) > 1
        out.append(word if keep else word.lower())
    return " ".join(out)


def title_entities(doc: Doc, title: str, body_entities: Sequence[Entity]) -> list[Entity]:
    """The title's entities from the parse's NER, with country, canonical name and count taken from the same name in the body.

    Offsets are into the title; ``sentence`` is -1.
    """
    known: dict[str, Entity] = {}
    for ent in body_entities:
        known.setdefault(ent.text.lower(), ent)
    out: list[Entity] = []
    for span in doc.ents:
        text = title[span.start_char:span.end_char]
        same = known.get(text.lower())
        label = same.label if same is not None else span.label_
        out.append(Entity(
            text=text, label=label, start=span.start_char, end=span.end_char, sentence=-1,
            canonical=same.canonical if same is not None else span.ent_id_ or None,
            country=same.country if same is not None else None,
            place_kind=same.place_kind if same is not None else None,
            category=same.category if same is not None else None,
        ))
    return out
