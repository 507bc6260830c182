"""dedup text features: consumes an article's text; produces its normalised words, body hash, sentence spans and fingerprints, word shingles and MinHash signature.

Pure and stateless: nothing here reads or writes the index (``services.dedup.index``) or decides
anything (``services.dedup.core``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import spacy
from datasketch import MinHash  # type: ignore[import-untyped]

from shared.text import mask_long_runs

__all__ = [
    "FINGERPRINT_WIDTH",
    "Features",
    "Featurizer",
    "SentenceFeatures",
    "body_keys",
    "content_hash",
    "digest",
    "normalise_tokens",
    "sentence_fingerprint",
    "split_sentences",
]

_FP_BYTES = 6  # 48-bit sentence / band / hash keys: 8 base64 characters, no padding
FINGERPRINT_WIDTH = len(base64.urlsafe_b64encode(bytes(_FP_BYTES)))  # characters per fingerprint
# The text patterns stay in re, and each is linear: a run of one character class (\w+, [^\n]+),
# or a newline, a run of one class and a newline, so no character is looked at by more
# than two attempts. RE2's binding would re-encode the whole text on every finditer(text, s, e).
_WORD_RE = re.compile(r"\w+")
_BLANK_LINE_RE = re.compile(r"\n[ \t\r\f\v]*\n")
_LINE_RE = re.compile(r"[^\n]+")
# spaCy refuses texts over nlp.max_length (1,000,000): no block longer than _MAX_BLOCK reaches
# it, and long whitespace-free runs reach it as letters (shared.text.mask_long_runs).
_MAX_BLOCK = 100_000


# --------------------------------------------------------------------------------------------
# Words and hashes


def normalise_tokens(text: str) -> list[str]:
    """Return the normalised words of ``text``: NFKC, case-folded, punctuation and spacing dropped.

    Curly and straight quotes, dashes and spacing all vanish, so a re-typeset copy normalises to
    the same words as the original.
    """
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def content_hash(text: str) -> str:
    """Return the SHA-256 (hex) of the normalised body: the key of exact duplicates."""
    return body_keys(normalise_tokens(text))[0]


def body_keys(tokens: list[str]) -> tuple[str, str]:
    """Return ``(content_hash, hash_key)`` of a body's normalised words.

    ``hash_key`` is the first 128 bits of the hash in base64: what the index stores, half the size.
    """
    text_hash = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
    return text_hash, base64.urlsafe_b64encode(bytes.fromhex(text_hash)[:16]).decode()


def digest(data: bytes) -> str:
    """Return 48 bits of BLAKE2b over ``data`` in base64 (8 characters): a compact index key."""
    return base64.urlsafe_b64encode(hashlib.blake2b(data, digest_size=_FP_BYTES).digest()).decode()


def sentence_fingerprint(sentence: str) -> str:
    """Return the fingerprint of one sentence: 48 bits of BLAKE2b over its normalised words."""
    return digest(" ".join(normalise_tokens(sentence)).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Sentences


@functools.cache
def _default_nlp() -> Any:
    # Loaded once per process: a blank English tokenizer plus the rule-based sentencizer, which is
    # all sentence novelty needs (no statistical model, no download).
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _blocks(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into blocks that a sentence may never cross.

    Blank lines always separate blocks. A single line break also does, unless the next line starts
    with a lowercase letter: scraped text puts one paragraph, headline or caption per line, while
    a hard-wrapped wire story continues its sentence in lowercase on the next line.
    """
    blocks: list[tuple[int, int]] = []
    for para in _split_keep_offsets(text, _BLANK_LINE_RE):
        start, end = para
        for line in _LINE_RE.finditer(text, start, end):
            s, e = line.span()
            if not text[s:e].strip():
                continue
            first = text[s:e].lstrip()[:1]
            if blocks and blocks[-1][1] >= start and first.islower():
                blocks[-1] = (blocks[-1][0], e)
            else:
                blocks.append((s, e))
    return blocks


def _split_keep_offsets(text: str, sep: re.Pattern[str]) -> Iterable[tuple[int, int]]:
    pos = 0
    for m in sep.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


def _bounded_blocks(text: str, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``blocks`` with any block over _MAX_BLOCK cut at its last whitespace before the limit."""
    out: list[tuple[int, int]] = []
    for start, end in blocks:
        while end - start > _MAX_BLOCK:
            window = text[start : start + _MAX_BLOCK]
            cut = max(window.rfind(" "), window.rfind("\t"), window.rfind("\n"))
            cut = start + (cut + 1 if cut > 0 else _MAX_BLOCK)
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def split_sentences(text: str, nlp: Any = None) -> list[tuple[int, int]]:
    """Return the character spans of the sentences of ``text``, in order.

    Paragraphs (separated by a blank line) and lines never merge into one sentence (see
    ``_blocks``); inside a block, spaCy's rule-based sentencizer splits on final punctuation and
    keeps abbreviations such as "U.S." whole. Spans are stripped of surrounding whitespace and
    spans without a single word character are dropped. ``nlp`` defaults to a blank English
    pipeline with a sentencizer. Time stays linear in the text: a block of more than 100,000
    characters is cut at whitespace, and a whitespace-free run of more than 200 characters is
    one token to spaCy (its tokenizer is cubic in such runs).
    """
    nlp = nlp if nlp is not None else _default_nlp()
    blocks = _bounded_blocks(text, _blocks(text))
    spans: list[tuple[int, int]] = []
    pieces = (mask_long_runs(text[s:e]) for s, e in blocks)
    # Strings the tokenizer interns are freed on exit (the spans are plain ints), so a
    # long-running worker's string store does not grow with every new word it meets.
    with nlp.memory_zone():
        for (b_start, _), doc in zip(blocks, nlp.pipe(pieces), strict=True):
            for sent in doc.sents:
                s = b_start + sent.start_char
                e = b_start + sent.end_char
                chunk = text[s:e]
                s += len(chunk) - len(chunk.lstrip())
                e -= len(chunk) - len(chunk.rstrip())
                if e > s and _WORD_RE.search(text, s, e):
                    spans.append((s, e))
    return spans


# --------------------------------------------------------------------------------------------
# Features of one article


@dataclass(frozen=True)
class SentenceFeatures:
    """The sentences of a text: all a replay needs recomputed."""

    spans: list[tuple[int, int]]
    fingerprints: list[str]
    weights: list[int]  # normalised words per sentence


@dataclass(frozen=True)
class Features:
    """Everything the index and the decision need to know about one article's body."""

    text_hash: str  # SHA-256 hex of the normalised body (``content_hash``)
    hash_key: str  # its first 128 bits in base64: the exact-duplicate key in the index
    shingles: int  # number of distinct word shingles
    signature: np.ndarray  # uint16 b-bit MinHash of the shingles
    sentences: SentenceFeatures


class Featurizer:
    """Computes ``Features`` with one set of MinHash parameters.

    Signatures are datasketch ``MinHash`` values kept as their low 16 bits (b-bit MinHash): a
    chance match costs 1/65536 of Jaccard, and the stored signature halves.
    """

    def __init__(self, *, shingle_size: int, num_perm: int, seed: int, nlp: Any = None) -> None:
        """``nlp`` is a spaCy pipeline with sentence boundaries (None: blank English + sentencizer)."""
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        self.seed = seed
        self.nlp = nlp
        # Permutations are drawn once: datasketch would redraw them for every MinHash otherwise.
        self._permutations = MinHash(num_perm=num_perm, seed=seed).permutations

    def features(self, text: str, tokens: list[str]) -> Features:
        """Return the features of ``text``, whose normalised words are ``tokens`` (not empty)."""
        text_hash, hash_key = body_keys(tokens)
        k = self.shingle_size
        if len(tokens) <= k:
            shingles = {" ".join(tokens)}
        else:
            shingles = {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}
        mh = MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            permutations=self._permutations,
            scheme="affine32",
        )
        mh.update_batch([s.encode("utf-8") for s in shingles])
        signature = (mh.hashvalues & 0xFFFF).astype(np.uint16)
        return Features(text_hash, hash_key, len(shingles), signature, self.sentences(text))

    def sentences(self, text: str) -> SentenceFeatures:
        """Return the sentence spans of ``text`` with their fingerprints and word counts."""
        spans = split_sentences(text, self.nlp)
        fingerprints, weights = [], []
        for s, e in spans:
            words = normalise_tokens(text[s:e])
            fingerprints.append(digest(" ".join(words).encode("utf-8")))
            weights.append(len(words))
        return SentenceFeatures(spans, fingerprints, weights)
