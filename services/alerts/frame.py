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
                     "tell", "appeal", "plead", "want", "order", "push", "make", "force", "warn",
                     "ultimatum"})
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
# The plural third-person pronouns a movement can be told with ("as they moved back into ...").
_PLURAL_PRONOUNS = frozenset({"they", "them"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
# What a resolved pronoun stands for, for patterns: {"_": {"antecedent": {"IN": [troop, ...]}}}.
# "" (not None) by default: spaCy's Matcher hashes string extension values and fails on None.
if not Token.has_extension("antecedent"):
    Token.set_extension("antecedent", default="")


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
        actor_tok, actor = _actor(force, trigger, action, by_token, entities)
        place = _place(trigger, force, action, by_token, exclude=actor_tok,
                       actor_country=actor.country if actor is not None else None)
        found[anchor.i] = Frame(
            actor=actor,
            action=action,
            place=place,
            count=_count(force, by_token) if force is not None else None,
            equipment=_equipment(entities),
            modality=modality(trigger, force),
            trigger=trigger.text if trigger is not None else None,
            force=force.text if force is not None else None,
        )
    out = [found[i] for i in sorted(found)]
    # a match that names only the force ("troops" beside "announced their withdrawal") is no movement of its own
    moved = [f for f in out if f.action is not None]
    return moved or out


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
    if token.pos_ == "PRON":
        return token._.antecedent in lemmas  # "they", resolved to a force (resolve_pronouns)
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


def _owner(token: Token, by_token: Mapping[int, Entity], entities: Sequence[Entity], *,
           withdraw: bool) -> tuple[Token | None, FrameParty | None]:
    """Whose force ``token`` is: a people/country naming it or modifying it ("Russian troops", "Russia's", "troops from Russia").

    A PERSONNEL or MILITARY_UNIT entity carries its own country ("Russian troops" -> RU): that is
    the owner, named by the people or country word inside it. In a withdrawal "from X" is the
    place left, not the owner.
    """
    entity = by_token.get(token.i)
    if entity is not None and entity.label in ACTOR_LABELS and entity.label != "MILITARY_UNIT":
        return token, _party(entity)
    if entity is not None and entity.label in ("PERSONNEL", "MILITARY_UNIT") and entity.country:
        inner = next((e for e in entities if e.label in ("NORP", "GPE") and e.country == entity.country
                      and e.start >= entity.start and e.end <= entity.end), None)
        return None, FrameParty(text=(inner or entity).text, country=entity.country)
    for child in token.children:
        if child.dep_ in ("amod", "compound", "poss", "nmod", "npadvmod", "nummod"):
            ent = by_token.get(child.i)
            if ent is not None and ent.label in ("NORP", "GPE"):
                return child, _party(ent)
        if child.dep_ == "prep" and (child.lower_ == "of" or (child.lower_ == "from" and not withdraw)):
            for pobj in child.children:
                ent = by_token.get(pobj.i)
                if pobj.dep_ == "pobj" and ent is not None and ent.label in ("NORP", "GPE"):
                    return pobj, _party(ent)
    return None, None


def _party(entity: Entity) -> FrameParty:
    return FrameParty(text=entity.text, country=entity.country)


def _actor(force: Token | None, trigger: Token | None, action: Action | None,
           by_token: Mapping[int, Entity], entities: Sequence[Entity]) -> tuple[Token | None, FrameParty | None]:
    """The force's owner, else the subject of the trigger or of a verb above it, else a possessor or a people in the sentence."""
    withdraw = action == "withdraw"
    if force is not None:
        token, party = _owner(force, by_token, entities, withdraw=withdraw)
        if party is not None:
            return token, party
    node = trigger or force
    steps = 0
    while node is not None and steps < 6:
        for child in node.children:
            if child.dep_ in ("nsubj", "nsubjpass", "agent") and (force is None or child.i != force.i):
                subject = child
                if child.dep_ == "agent":
                    subject = next((c for c in child.children if c.dep_ == "pobj"), child)
                token, party = _owner(subject, by_token, entities, withdraw=withdraw)
                if party is not None:
                    return token, party
        if node.head.i == node.i:
            break
        node, steps = node.head, steps + 1
    some = force or trigger
    if some is None:
        return None, None
    doc = some.doc
    # A country owning something in the sentence is an origin or an actor, not a destination
    # ("sent as part of Russia's agreements", "signals Moscow's support"), unless it owns a
    # place the force goes to ("to Iraq's capital").
    for token in doc:
        ent = by_token.get(token.i)
        if (token.dep_ == "poss" and ent is not None and ent.label in ("NORP", "GPE")
                and _place_role(token, action) is None):
            return token, _party(ent)
    # "troops flew in from Russia": where a deployment comes from
    if trigger is not None and not withdraw:
        for token in doc:
            ent = by_token.get(token.i)
            if ent is not None and ent.label in ("NORP", "GPE") and _governing_prep(token) == ("from", trigger):
                return token, _party(ent)
    # A people named anywhere in the sentence ("a Russian Il-62 ... carrying troops arrived").
    for token in doc:
        ent = by_token.get(token.i)
        if ent is not None and ent.label == "NORP":
            return token, _party(ent)
    return None, None


# Nominal links a place name passes through to the phrase that places it ("to the Venezuelan
# capital", "to the Iraq border", "into northern Iraq").
_NOMINAL = frozenset({"compound", "amod", "nmod", "appos", "conj", "npadvmod", "nummod"})
# Nouns a country's possessive still places a force in ("to Iraq's capital", "Syria's north").
_PLACE_NOUNS = frozenset({"capital", "city", "border", "territory", "soil", "region", "province", "coast",
                          "north", "south", "east", "west", "airspace", "water", "port", "airport", "base",
                          "frontier", "side"})
_DESTINATION_PREPS = frozenset({"to", "into", "in", "at", "outside", "near", "toward", "towards", "across",
                                "inside", "within", "through", "on", "onto", "along", "over", "for", "around"})
# Verbs whose direct object is the place itself ("troops left Iraq", "Israel invaded Lebanon").
_PLACE_OBJECT_VERBS = frozenset({"leave", "enter", "invade", "cross", "reach", "evacuate", "exit", "quit",
                                 "occupy", "vacate", "abandon"})


def _governing_prep(token: Token) -> tuple[str, Token] | None:
    """The preposition that places a name and what that phrase hangs on: ("to", sent) for "sent troops to the Venezuelan capital"."""
    node = token
    for _ in range(8):
        dep = node.dep_
        if dep == "poss" and node.head.lemma_.lower() not in _PLACE_NOUNS:
            return None
        if dep == "pobj" and node.head.lower_ == "of" and node.head.head.pos_ in ("NOUN", "PROPN"):
            node = node.head.head  # "the capital of Venezuela": go on from "capital"
            continue
        if dep == "pobj":
            prep = node.head
            name = prep.lower_
            if name == "of" and prep.head.lower_ == "out":  # "out of Iraq"
                return "from", prep.head.head
            if prep.dep_ == "pcomp" or prep.head.pos_ == "ADP":  # "from inside Iraq"
                return name, prep.head.head
            return name, prep.head
        if dep == "dobj" and node.head.lemma_.lower() in _PLACE_OBJECT_VERBS:
            return "dobj", node.head
        if dep in _NOMINAL or dep == "poss":
            node = node.head
            continue
        return None
    return None


def _place_role(token: Token, action: Action | None) -> tuple[str, Token] | None:
    """How a place name places the movement, if it does: (preposition or "dobj", what it hangs on).

    A destination or a location for every movement; "from" and "out of" only for a withdrawal
    (the place left): elsewhere "from X" is where the force comes from, not where it goes.
    """
    found = _governing_prep(token)
    if found is None:
        return None
    prep, _ = found
    if prep == "from" or prep == "out":
        return found if action == "withdraw" else None
    if prep in _DESTINATION_PREPS or prep == "dobj":
        return found
    return None


def _after_preposition(first: Token, root: Token, action: Action | None) -> tuple[str, Token] | None:
    """A place name right after a preposition of place that the parse did not hang it on ("soldiers in Caracas signals ...", a headline)."""
    if root.dep_ in ("nsubj", "nsubjpass", "dobj", "poss", "attr") or first.i == 0:
        return None
    prev = first.doc[first.i - 1]
    if prev.lower_ == "the" and prev.i > 0:
        prev = first.doc[prev.i - 1]
    name = prev.lower_
    if prev.pos_ != "ADP" or not (name in _DESTINATION_PREPS or (name == "from" and action == "withdraw")):
        return None
    return name, prev.head


def _place(trigger: Token | None, force: Token | None, action: Action | None,
           by_token: Mapping[int, Entity], *, exclude: Token | None,
           actor_country: str | None) -> FrameParty | None:
    """Where the movement goes, happens or (a withdrawal) leaves: a place name in a phrase of place, never a subject, object or owner."""
    some = trigger or force
    if some is None:
        return None
    doc = some.doc
    # "Venezuela, where Moscow sent personnel": the place is what the relative clause hangs on
    if trigger is not None and trigger.dep_ == "relcl" and any(c.lower_ == "where" for c in trigger.children):
        head = by_token.get(trigger.head.i)
        if head is not None and head.label in PLACE_LABELS:
            return _party(head)
    excluded = by_token.get(exclude.i) if exclude is not None else None
    places: list[tuple[Token, Entity, tuple[str, Token]]] = []
    seen: set[int] = set()
    for token in doc:
        ent = by_token.get(token.i)
        if ent is None or ent.label not in PLACE_LABELS or ent is excluded or id(ent) in seen:
            continue
        # the name's own head: the token of the entity whose head is outside it
        root = token
        while by_token.get(root.head.i) is ent and root.head.i != root.i:
            root = root.head
        role = _place_role(root, action) or _after_preposition(token, root, action)
        if role is not None:
            seen.add(id(ent))
            places.append((root, ent, role))
    if not places:
        return None
    roots = [t for t in (trigger, force) if t is not None]
    inside = {t.i for r in roots for t in r.subtree}

    def rank(place: tuple[Token, Entity, tuple[str, Token]]) -> tuple[int, bool]:
        root, ent, (_, attached) = place
        if any(attached == r or attached.head == r for r in roots):
            near = 0  # a phrase on the trigger or the force ("sent troops to Venezuela")
        elif root.i in inside:
            near = 1  # in the trigger's phrase ("as part of agreements to supply weapons to Venezuela")
        else:
            near = 2
        # a place of the actor's own country is where a force comes from, rarely where it goes
        return near, bool(actor_country) and ent.country == actor_country

    _, ent, _ = min(places, key=rank)
    return _party(ent)


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
    if nearest is None:
        nearest = _noun_complement(node)
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
        if link == "relcl" or node.head.i == node.i:
            break
        link, node, first, steps = node.dep_, node.head, False, steps + 1
        if link == "relcl" or (link == "conj" and node.pos_ in ("VERB", "AUX")):
            break  # a relative or a coordinated clause states its own fact
    return nearest or "fact"


def _noun_complement(node: Token) -> Modality | None:
    """The modality of a noun an infinitive complements ("a call from Trump to remove all personnel").

    The parser often hangs such an infinitive on a verb further up; the noun phrase ending right
    before its "to" is the one it completes.
    """
    to = node.doc[node.i - 1] if node.i > 0 else None
    if to is None or to.lower_ != "to" or to.head.i != node.i or to.dep_ != "aux":
        return None
    for token in node.doc[max(0, to.i - 12):to.i]:
        if token.pos_ == "NOUN" and token.right_edge.i == to.i - 1:
            # the outermost noun phrase ("an ultimatum to Ukrainian forces in the Crimea"), not a noun inside it
            return _kind(token.lemma_.lower())
    return None


def _kind(lemma: str) -> Modality | None:
    if lemma in _DEMAND:
        return "demand"
    if lemma in _OFFER:
        return "offer"
    if lemma in _PLAN:
        return "plan"
    return None


# --------------------------------------------------------------------------------- pronouns


def resolve_pronouns(doc: Doc, previous: Doc | None = None) -> None:
    """Mark each "they"/"them" of ``doc`` with the lemma of the plural noun it stands for (``token._.antecedent``), when one is clear.

    Within the sentence: the nearest plural noun before the pronoun, unless a plural subject
    before it is another noun ("clashed with Israeli forces as they moved back into ..." -> force;
    "troops checked voters before they entered ..." and "protesters clashed with troops as they
    marched" stay unresolved: recency and the subject disagree). With no plural noun before it,
    the previous sentence of the same text (``previous``), only when that sentence has exactly
    one plural subject (the subject a next sentence's "they" continues): "Troops entered the
    town. They moved on ..." -> troop. Anything else stays unresolved ("").
    """
    for pronoun in doc:
        if pronoun.lower_ not in _PLURAL_PRONOUNS or pronoun.pos_ != "PRON":
            continue
        before = [t for t in doc[:pronoun.i] if _plural_head(t)]
        subjects = [t for t in before if t.dep_ in _SUBJECTS]
        if before:
            nearest = before[-1]
            if not subjects or subjects[-1].lemma_ == nearest.lemma_:
                pronoun._.antecedent = nearest.lemma_.lower()
        elif previous is not None:
            candidates = [t for t in previous if _plural_head(t) and t.dep_ in _SUBJECTS]
            if len(candidates) == 1:
                pronoun._.antecedent = candidates[0].lemma_.lower()


def _plural_head(token: Token) -> bool:
    # the head noun of a plural noun phrase ("Israeli forces"), not a modifier inside one ("forces commander")
    return token.tag_ in ("NNS", "NNPS") and token.dep_ not in ("compound", "amod", "poss", "npadvmod", "nmod")


# --------------------------------------------------------------------------------- headlines
# (their casing for the parse is shared.text.headline_case: the entities stage reads them so too)


def title_entities(doc: Doc, title: str, body_entities: Sequence[Entity],
                   given: Sequence[Entity] | None = None) -> list[Entity]:
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
