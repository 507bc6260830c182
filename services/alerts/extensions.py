"""The token attributes the alert rules read: a country, an antecedent.

spaCy keeps custom attributes on its ``Token`` class, for the whole process. They are registered
by ``register_extensions`` where the rules are compiled and the parser is made (build time),
never by importing a module, and registering twice changes nothing.
"""

from __future__ import annotations

from spacy.tokens import Token

# ``token._.country``: the country (ISO 3166-1 alpha-2) of the entity the token is in, for
# patterns: {"_": {"country": "RU"}}.
COUNTRY = "country"
# ``token._.antecedent``: the lemma of the plural noun a "they"/"them" stands for, for patterns:
# {"_": {"antecedent": {"IN": [troop, ...]}}}.
ANTECEDENT = "antecedent"


def register_extensions() -> None:
    """Register ``Token._.country`` and ``Token._.antecedent`` (default ""), unless already there.

    The default is "" and not None: spaCy's Matcher hashes string extension values and fails on
    None.
    """
    for name in (COUNTRY, ANTECEDENT):
        if not Token.has_extension(name):
            Token.set_extension(name, default="")
