"""How a sentence presents a movement: fact, plan, offer, demand or denial.

Read off the dependency parse: negation or a denial, demand, offer or plan word governing the
movement word (the trigger), or a future auxiliary. A frame's modality is a property of the
language, not of one rule, so its closed-class English words live here.
"""

from __future__ import annotations

from spacy.tokens import Token

from shared.schemas.enums import Modality

# Closed-class English words of modality, by what they make of the movement they govern.
_DENY = frozenset(
    {
        "deny",
        "reject",
        "dismiss",
        "refute",
        "refuse",
        "decline",
        "rebuff",
        "denial",
        "refusal",
        "rejection",
        "without",
    }
)
_DEMAND = frozenset(
    {
        "urge",
        "demand",
        "call",
        "ask",
        "request",
        "press",
        "pressure",
        "tell",
        "appeal",
        "plead",
        "want",
        "order",
        "push",
        "make",
        "force",
        "warn",
        "ultimatum",
    }
)
_OFFER = frozenset(
    {
        "offer",
        "pledge",
        "promise",
        "volunteer",
        "propose",
        "ready",
        "willing",
        "prepared",
        "proposal",
    }
)
_PLAN = frozenset(
    {
        "plan",
        "intend",
        "decide",
        "consider",
        "expect",
        "prepare",
        "aim",
        "schedule",
        "mull",
        "weigh",
        "seek",
        "hope",
        "agree",
        "vow",
        "threaten",
        "set",
        "due",
        "likely",
        "could",
        "may",
        "might",
        "will",
        "would",
        "shall",
        "'ll",
        "wo",
        "going",
        "intention",
        "decision",
        "possible",
        "possibility",
    }
)
_FUTURE_AUX = frozenset({"will", "would", "shall", "'ll", "wo", "could", "may", "might", "ca"})


def modality_of(trigger: Token | None, force: Token | None) -> Modality:
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
            if lemma in _DENY or (
                lemma == "rule" and any(c.lower_ == "out" for c in node.children)
            ):
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
    for token in node.doc[max(0, to.i - 12) : to.i]:
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
