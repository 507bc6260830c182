"""Which plural noun a "they"/"them" stands for.

For the rules' patterns (``token._.antecedent``) and frames.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

# The plural third-person pronouns a movement can be told with ("as they moved back into ...").
_PLURAL_PRONOUNS = frozenset({"they", "them"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})


def resolve_pronouns(doc: Doc, previous: Doc | None = None) -> None:
    """Mark each "they"/"them" of ``doc`` with the lemma of the plural noun it stands for (``token._.antecedent``), when one is clear.

    Within the sentence: the nearest plural noun before the pronoun, unless a plural subject
    before it is another noun ("clashed with Israeli forces as they moved back into ..." -> force;
    "troops checked voters before they entered ..." and "protesters clashed with troops as they
    marched" stay unresolved: recency and the subject disagree). With no plural noun before it,
    the previous sentence of the same text (``previous``), only when that sentence has exactly
    one plural subject (the subject a next sentence's "they" continues): "Troops entered the
    town. They moved on ..." -> troop. Anything else stays unresolved ("").
    The attribute is registered by ``services.alerts.extensions.register_extensions``.
    """
    for pronoun in doc:
        if pronoun.lower_ not in _PLURAL_PRONOUNS or pronoun.pos_ != "PRON":
            continue
        before = [t for t in doc[: pronoun.i] if _plural_head(t)]
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
    return token.tag_ in ("NNS", "NNPS") and token.dep_ not in (
        "compound",
        "amod",
        "poss",
        "npadvmod",
        "nmod",
    )
