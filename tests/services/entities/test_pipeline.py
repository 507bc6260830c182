"""Tests for services/entities/ruler.py and pipeline.py: where the ruler goes, the model."""

from __future__ import annotations

import pytest
import spacy

from services.entities.pipeline import ModelNotFound, load_nlp
from services.entities.ruler import PERSONNEL_NAME, RULER_NAME, add_domain_ruler


def test_domain_ruler_is_added_once_and_before_ner():
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    first = add_domain_ruler(nlp)
    assert add_domain_ruler(nlp) is first
    assert nlp.pipe_names == [RULER_NAME, "ner", PERSONNEL_NAME]


def test_unknown_model_name_raises_a_clear_error():
    with pytest.raises(ModelNotFound, match="not installed"):
        load_nlp("xx_no_such_model")


# --- the real model (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_real_pipeline_runs_ruler_before_ner_and_skips_unused_pipes(nlp):
    assert nlp.pipe_names == [RULER_NAME, "ner", PERSONNEL_NAME]
