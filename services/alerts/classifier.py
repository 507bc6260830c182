"""A rule's classifier: logistic regression over sentence embeddings, learned from its examples.

Training is deterministic (scikit-learn's lbfgs on the same vectors gives the same weights) and
takes well under a second for a few hundred examples once they are embedded. The artefact is a
small JSON file beside the examples (the weights, the threshold, and the digests of the examples
and of the embedding model it was trained with): ``newswatch rules build`` writes it, and a rule
whose artefact is missing or stale is trained when the rules are loaded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from services.alerts.examples import Examples

log = logging.getLogger("newswatch")

# Inverse regularisation strength: unit-length 384-dimensional inputs need little shrinkage to
# separate a few hundred examples (chosen on the tuning sets, evaluation/alerts/README.md).
C = 4.0


@dataclass(frozen=True)
class Classifier:
    """P(fire | sentence) = sigmoid(weights · embedding + bias); fires at ``threshold``."""

    weights: np.ndarray
    bias: float
    threshold: float
    model: str  # the embedding model's digest
    examples: str  # the examples' digest
    counts: tuple[int, int]  # (fire, silent) examples it learned from

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """P(fire) for each row of ``vectors``."""
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))

    def fresh_for(self, examples: Examples, model: str) -> bool:
        """Whether this classifier was learned from exactly these examples with this model."""
        return self.examples == examples.digest and self.model == model

    def to_json(self) -> dict[str, Any]:
        """The artefact's content."""
        return {
            "kind": "logistic-regression",
            "model": self.model,
            "examples": self.examples,
            "counts": {"fire": self.counts[0], "silent": self.counts[1]},
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": [round(float(w), 7) for w in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Classifier:
        """The classifier an artefact holds."""
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            model=str(data["model"]),
            examples=str(data["examples"]),
            counts=(int(data["counts"]["fire"]), int(data["counts"]["silent"])),
        )


def _model() -> LogisticRegression:
    # Balanced: a file with more silent than fire examples does not shift the threshold.
    return LogisticRegression(C=C, class_weight="balanced", max_iter=5000)


def train(
    examples: Examples, vectors: np.ndarray, *, model: str, threshold: float = 0.5
) -> Classifier:
    """Learn a classifier from the examples' embeddings (one row per example, in order)."""
    labels = np.asarray(examples.labels, dtype=np.int8)
    fitted = _model().fit(vectors, labels)
    return Classifier(
        weights=fitted.coef_[0].astype(np.float32),
        bias=float(fitted.intercept_[0]),
        threshold=threshold,
        model=model,
        examples=examples.digest,
        counts=(int(labels.sum()), int(len(labels) - labels.sum())),
    )


def held_out_probabilities(examples: Examples, vectors: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each example's P(fire) from a classifier that did not learn from it (stratified k-fold, seeded).

    An example on the wrong side of the threshold here contradicts the others or stands alone:
    the analyst's cue to add neighbours or fix its label.
    """
    labels = np.asarray(examples.labels, dtype=np.int8)
    folds = max(2, min(folds, int(labels.sum()), int(len(labels) - labels.sum())))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    return cross_val_predict(_model(), vectors, labels, cv=split, method="predict_proba")[:, 1]


def read_artefact(path: Path) -> Classifier | None:
    """The classifier stored at ``path``, or None when there is none or it cannot be read."""
    try:
        return Classifier.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("%s: not a classifier artefact (%s); training from the examples", path, error)
        return None


def write_artefact(classifier: Classifier, path: Path) -> None:
    """Store ``classifier`` at ``path`` (JSON, one line per field)."""
    path.write_text(json.dumps(classifier.to_json(), indent=1) + "\n", encoding="utf-8")
