"""Who moved and where: a frame's actor and place.

Read off the parse and the entities. The actor is the force's owner (a people or country naming
or modifying it, or the subject of the trigger or of a verb above it); the place a GPE/LOC/FAC
in a phrase of place on the movement. Countries are never guessed here: they come from the entities stage
(``Entity.country``) or stay None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spacy.tokens import Doc, Token

from shared.schemas.articles import Entity, FrameParty
from shared.schemas.enums import Action

ACTOR_LABELS = frozenset({"NORP", "GPE", "ORG", "MILITARY_UNIT"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# A people or a country: what owns a force, or where it comes from.
_OWNER_LABELS = ("NORP", "GPE")
# An organisation owns a force only when it names it ("AU troops", "NATO's forces"): elsewhere in
# a sentence an organisation is more often who speaks than who moves.
_NAMING_OWNER_LABELS = (*_OWNER_LABELS, "ORG")
# Verbs whose subject takes a stance on someone else's movement ("the United States welcomed ...
# the deployment of AU troops", "Hassan asked Blair to halt the deployment"): never the mover.
_STANCE_VERBS = frozenset(
    {"welcome", "urge", "ask", "call", "demand", "request", "praise", "condemn", "criticise",
     "criticize", "slam", "warn", "fear", "oppose", "protest", "plead", "beg", "applaud", "hail",
     "reject", "accept", "back", "support"}
)  # fmt: skip
# Verbs of saying: their subject moved the force only when it is a country or a people ("Russia
# said it would send"), not a ministry or a spokesman ("the Ministry of Defence said soldiers ...").
_SAYING_VERBS = frozenset(
    {"say", "announce", "tell", "report", "state", "confirm", "claim", "deny", "add", "disclose",
     "reveal", "indicate", "insist"}
)  # fmt: skip
# Verbs that place the telling, not the movement: "IRNA, received in London, said the troops
# advanced", "the ministry said in Baghdad".
_TOLD_AT_VERBS = _SAYING_VERBS | {"receive", "monitor", "quote", "broadcast", "speak", "write"}


def _owner(
    token: Token, by_token: Mapping[int, Entity], entities: Sequence[Entity], *, withdraw: bool
) -> tuple[Token | None, FrameParty | None]:
    """Whose force ``token`` is: a people/country naming it or modifying it ("Russian troops", "Russia's", "troops from Russia").

    A PERSONNEL or MILITARY_UNIT entity carries its own country ("Russian troops" -> RU): that is
    the owner, named by the people or country word inside it. In a withdrawal "from X" is the
    place left, not the owner.
    """
    entity = by_token.get(token.i)
    if entity is not None and entity.label in ACTOR_LABELS and entity.label != "MILITARY_UNIT":
        return token, _party(entity)
    if entity is not None and entity.label in ("PERSONNEL", "MILITARY_UNIT") and entity.country:
        inner = next(
            (
                e
                for e in entities
                if e.label in _OWNER_LABELS
                and e.country == entity.country
                and e.start >= entity.start
                and e.end <= entity.end
            ),
            None,
        )
        if inner is not None and inner.label == "GPE":
            mover = _other_mover(token, inner, by_token)  # "Poland to cut Iraq troops"
            if mover is not None:
                return mover
        return None, FrameParty(text=(inner or entity).text, country=entity.country)
    for child in token.children:
        if child.dep_ in ("amod", "compound", "poss", "nmod", "npadvmod", "nummod"):
            ent = by_token.get(child.i)
            if ent is not None and ent.label in _NAMING_OWNER_LABELS:
                return _modifier_owner(token, child, ent, by_token)
            if ent is not None and ent.label == "MILITARY_UNIT" and ent.country:
                # "Black Watch troops": a named unit of one country's forces
                return child, FrameParty(text=ent.canonical or ent.text, country=ent.country)
        if child.dep_ == "prep" and (
            child.lower_ == "of" or (child.lower_ == "from" and not withdraw)
        ):
            for pobj in child.children:
                ent = by_token.get(pobj.i)
                if pobj.dep_ != "pobj" or ent is None:
                    continue
                if ent.label in _NAMING_OWNER_LABELS:
                    return pobj, _party(ent)
                # "a contingent of 50 Nigerian soldiers": the force inside names its country
                if child.lower_ == "of" and ent.label in ("PERSONNEL", "MILITARY_UNIT"):
                    _, party = _owner(pobj, by_token, entities, withdraw=withdraw)
                    if party is not None:
                        return None, party
    return None, None


def _modifier_owner(
    force: Token, child: Token, ent: Entity, by_token: Mapping[int, Entity]
) -> tuple[Token, FrameParty]:
    """The owner a people, country or organisation modifying the force names."""
    if child.dep_ == "compound" and ent.label == "GPE":
        # "Poland to cut Iraq troops": a country named before the force where another moves it
        # is where the force serves, and the mover owns it
        mover = _other_mover(force, ent, by_token)
        if mover is not None:
            return mover
    if not ent.country:
        # "Australian SAS troops": a unit of no one country, named by its people
        national = _national(child, by_token)
        if national is not None:
            return national
    return child, _party(ent)


def _other_mover(
    force: Token, place: Entity, by_token: Mapping[int, Entity]
) -> tuple[Token, FrameParty] | None:
    """The country or people that is the subject of the verb ``force`` is the object of, when it is not ``place``'s."""
    if force.dep_ not in ("dobj", "nsubjpass"):
        return None
    for child in force.head.children:
        ent = by_token.get(child.i)
        if (
            child.dep_ == "nsubj"
            and ent is not None
            and ent.label in _OWNER_LABELS
            and ent.country
            and ent.country != place.country
        ):
            return child, _party(ent)
    return None


def _national(token: Token, by_token: Mapping[int, Entity]) -> tuple[Token, FrameParty] | None:
    """A people or country modifying ``token`` ("Australian" of "Australian SAS"), with its country."""
    for child in token.children:
        ent = by_token.get(child.i)
        if (
            child.dep_ in ("amod", "compound")
            and ent is not None
            and ent.label in ("NORP", "GPE")
            and ent.country
        ):
            return child, _party(ent)
    return None


def _party(entity: Entity) -> FrameParty:
    # Organisations by their canonical name: "AU" and "the African Union" are one actor.
    text = entity.canonical if entity.label == "ORG" and entity.canonical else entity.text
    return FrameParty(text=text, country=entity.country)


def resolve_actor(
    force: Token | None,
    trigger: Token | None,
    action: Action | None,
    by_token: Mapping[int, Entity],
    entities: Sequence[Entity],
) -> tuple[Token | None, FrameParty | None]:
    """The force's owner, else the subject of the trigger or of a verb above it, else a possessor or a people in the sentence."""
    withdraw = action == "withdraw"
    if force is not None:
        token, party = _owner(force, by_token, entities, withdraw=withdraw)
        if party is not None:
            return token, party
    if trigger is not None and trigger.pos_ == "NOUN":
        # A movement named by a noun names its mover on it ("an Israeli withdrawal", "Russia's
        # deployment", "the deployment of AU troops"), before whoever the sentence is about.
        token, party = _owner(trigger, by_token, entities, withdraw=withdraw)
        if party is not None:
            return token, party
    token, party = _subject_owner(force, trigger, by_token, entities, withdraw=withdraw)
    if party is not None:
        return token, party
    some = force or trigger
    if some is None:
        return None, None
    return _sentence_actor(some.doc, trigger, action, by_token)


def _subject_owner(
    force: Token | None,
    trigger: Token | None,
    by_token: Mapping[int, Entity],
    entities: Sequence[Entity],
    *,
    withdraw: bool,
) -> tuple[Token | None, FrameParty | None]:
    """The owner named by the subject (or a passive's agent) of the trigger or of a verb up to six steps above it."""
    node = trigger or force
    # "the African Union said it would increase its forces", "Russia ... defended its decision to
    # send personnel": a pronoun below the verb names its subject, the speaker is the mover
    speaker_moves = any(
        c.pos_ == "PRON" and c.dep_ in ("nsubj", "nsubjpass", "poss")
        for t in (trigger, force)
        if t is not None
        for c in t.children
    )
    steps = 0
    while node is not None and steps < 6:
        lemma = node.lemma_.lower()
        if steps and node.pos_ == "VERB" and lemma in _STANCE_VERBS and not speaker_moves:
            break
        for child in node.children:
            if child.dep_ in ("nsubj", "nsubjpass", "agent") and (
                force is None or child.i != force.i
            ):
                subject = child
                if child.dep_ == "agent":
                    subject = next((c for c in child.children if c.dep_ == "pobj"), child)
                token, party = _owner(subject, by_token, entities, withdraw=withdraw)
                if party is None:
                    continue
                if steps and lemma in _SAYING_VERBS and not speaker_moves:
                    if party.country is None:  # a ministry or a spokesman said so
                        return None, None
                return token, party
        speaker_moves = speaker_moves or any(
            c.pos_ == "PRON" and c.dep_ in ("nsubj", "nsubjpass", "poss") for c in node.children
        )
        if node.head.i == node.i:
            break
        if steps and force is not None and node.i == force.i and node.dep_ == "pobj":
            # "peacekeepers fired on troops trying to enter": the movement is a clause on a force
            # that a verb above acts on; that verb's subject is not the mover.
            break
        node, steps = node.head, steps + 1
    return None, None


def _sentence_actor(
    doc: Doc, trigger: Token | None, action: Action | None, by_token: Mapping[int, Entity]
) -> tuple[Token | None, FrameParty | None]:
    """The fallback actor: a country owning something, where a deployment comes from, or a people named."""
    # A country owning something in the sentence is an origin or an actor, not a destination
    # ("sent as part of Russia's agreements", "signals Moscow's support"), unless it owns a
    # place the force goes to ("to Iraq's capital").
    for token in doc:
        ent = by_token.get(token.i)
        if (
            token.dep_ == "poss"
            and ent is not None
            and ent.label in _OWNER_LABELS
            and _place_role(token, action) is None
        ):
            return token, _party(ent)
    # "troops flew in from Russia": where a deployment comes from
    if trigger is not None and action != "withdraw":
        for token in doc:
            ent = by_token.get(token.i)
            if (
                ent is not None
                and ent.label in _OWNER_LABELS
                and _governing_prep(token) == ("from", trigger)
            ):
                return token, _party(ent)
    # A people named anywhere in the sentence ("a Russian Il-62 ... carrying troops arrived").
    for token in doc:
        ent = by_token.get(token.i)
        # not a name the movement goes to ("move north to Sunni Triangle", tagged NORP)
        if ent is not None and ent.label == "NORP" and _place_role(token, action) is None:
            if _after_preposition(token, token, action) is None:
                return token, _party(ent)
    return None, None


# Nominal links a place name passes through to the phrase that places it ("to the Venezuelan
# capital", "to the Iraq border", "into northern Iraq").
_NOMINAL = frozenset({"compound", "amod", "nmod", "appos", "conj", "npadvmod", "nummod"})
# Nouns a country's possessive still places a force in ("to Iraq's capital", "Syria's north").
_PLACE_NOUNS = frozenset(
    {
        "capital",
        "city",
        "border",
        "territory",
        "soil",
        "region",
        "province",
        "coast",
        "north",
        "south",
        "east",
        "west",
        "airspace",
        "water",
        "port",
        "airport",
        "base",
        "frontier",
        "side",
    }
)
_DESTINATION_PREPS = frozenset(
    {
        "to",
        "into",
        "in",
        "at",
        "outside",
        "near",
        "toward",
        "towards",
        "across",
        "inside",
        "within",
        "through",
        "on",
        "onto",
        "along",
        "over",
        "for",
        "around",
    }
)
# Verbs whose direct object is the place itself ("troops left Iraq", "Israel invaded Lebanon").
_PLACE_OBJECT_VERBS = frozenset(
    {
        "leave",
        "enter",
        "invade",
        "cross",
        "reach",
        "evacuate",
        "exit",
        "quit",
        "occupy",
        "vacate",
        "abandon",
    }
)


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


def _after_preposition(
    first: Token, root: Token, action: Action | None
) -> tuple[str, Token] | None:
    """A place name right after a preposition of place that the parse did not hang it on ("soldiers in Caracas signals ...", a headline)."""
    if root.dep_ in ("nsubj", "nsubjpass", "dobj", "poss", "attr") or first.i == 0:
        return None
    prev = first.doc[first.i - 1]
    if prev.lower_ == "the" and prev.i > 0:
        prev = first.doc[prev.i - 1]
    name = prev.lower_
    if prev.pos_ != "ADP" or not (
        name in _DESTINATION_PREPS or (name == "from" and action == "withdraw")
    ):
        return None
    return name, prev.head


def resolve_place(
    trigger: Token | None,
    force: Token | None,
    action: Action | None,
    by_token: Mapping[int, Entity],
    *,
    exclude: Token | None,
    actor_country: str | None,
) -> FrameParty | None:
    """Where the movement goes, happens or (a withdrawal) leaves: a place name in a phrase of place, never a subject, object or owner."""
    some = trigger or force
    if some is None:
        return None
    doc = some.doc
    # "Venezuela, where Moscow sent personnel": the place is what the relative clause hangs on
    if (
        trigger is not None
        and trigger.dep_ == "relcl"
        and any(c.lower_ == "where" for c in trigger.children)
    ):
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
        if role is not None and role[1] != trigger and role[1].lemma_.lower() in _TOLD_AT_VERBS:
            continue
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
