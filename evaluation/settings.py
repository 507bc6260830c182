"""Where the research corpora are: the one setting of the evaluation tree, read from ``NEWS_*`` environment variables.

``NEWS_CORPORA_DIR``: the folder of the public corpora (``bbc/``, ``reuters21578/``, ``re3d/`` ...,
described by its own README.md); default ``../shared/data`` beside the repository. Every reader
of the corpora, the evaluations and the tests that read them at test time, takes the path from
here. (Not ``NEWS_DATA_DIR``: that is where the faust workers keep their state.)
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[1]


class EvaluationSettings(BaseSettings):
    """The evaluation tree's settings; ``NEWS_`` prefix, like the services'."""

    model_config = SettingsConfigDict(
        env_prefix="NEWS_", frozen=True, extra="ignore", env_ignore_empty=True
    )

    # NEWS_CORPORA_DIR: research-only text, read in place, never copied into the repository.
    corpora_dir: Path = REPO.parent / "shared" / "data"


def corpora_dir() -> Path:
    """The corpora folder as the environment sets it now (resolved)."""
    return EvaluationSettings().corpora_dir.resolve()


def corpus(*parts: str) -> Path:
    """A path into the corpora that must exist: a missing corpus is an error, never a skip."""
    path = corpora_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"research corpus not available: {path} (set NEWS_CORPORA_DIR, default ../shared/data beside the repo)"
        )
    return path
