"""The linear model (Thai, and English with VADER's lexicon): TF-IDF character and word n-grams,
one-vs-rest logistic regression, class priors.

It is stored as one ``.npz`` file of plain arrays, loaded with ``allow_pickle=False``: no
code runs on load and nothing depends on the scikit-learn version (scikit-learn only trains).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from samphan.sentiment.features import CharNgrams, WordNgrams
from samphan.sentiment.text import normalise, question_cues, tokenize

# Corpus categories, in the order of the model's columns, and the labels the API shows.
CATEGORIES = ("neg", "neu", "pos", "q")
LABELS = {"pos": "positive", "neu": "neutral", "neg": "negative", "q": "question"}
FORMAT = "samphan-sentiment-linear/2"
READABLE_FORMATS = ("samphan-sentiment-linear/1", FORMAT)  # /1: Thai only, no "language" array
LANGUAGES = ("th", "en")


@dataclass
class ThaiSentimentModel:
    char: CharNgrams
    word: WordNgrams
    coef: np.ndarray  # (classes, features), float32
    intercept: np.ndarray  # (classes,)
    # Added to the log-probabilities before the argmax and the renormalisation: shifts the
    # priors towards the rare classes (tuned for macro-F1 on out-of-fold predictions).
    log_prior_shift: np.ndarray = field(default_factory=lambda: np.zeros(len(CATEGORIES)))
    classes: tuple[str, ...] = CATEGORIES
    meta: dict = field(default_factory=dict)
    # "th": PyThaiNLP tokens; "en": English tokens plus VADER's four lexicon columns at the end.
    language: str = "th"
    # 1: character and word n-grams. 2 (Thai): word n-grams see the message's start and end
    # (``BOUNDARY_TOKENS``: "xxbos ราคา", "ไหม xxeos"), plus two question-cue columns
    # (``text.question_cues``). The version is stored with the model; old files stay 1.
    feature_version: int = 1

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown model language {self.language!r} (expected one of {LANGUAGES})")
        # (features, classes), C-contiguous: ``x @ coef.T`` would copy the 7 MB matrix on every call.
        self._weights = np.ascontiguousarray(self.coef.T)

    # --- features ------------------------------------------------------------------

    def features(self, texts: Sequence[str], *, normalised: bool = False,
                 tokens: Sequence[Sequence[str]] | None = None) -> sparse.csr_matrix:
        clean = list(texts) if normalised else [normalise(t) for t in texts]
        if self.language == "en":
            from samphan.sentiment.english import english_tokens, lexicon_features

            if tokens is None:
                tokens = [english_tokens(t) for t in clean]
            # VADER reads the raw text (capitals, "!!!"); with normalised input that is all there is.
            blocks = [self.char.transform(clean), self.word.transform(tokens), lexicon_features(texts)]
        else:
            if tokens is None:
                tokens = [tokenize(t) for t in clean]
            if self.feature_version >= 2:
                blocks = [self.char.transform(clean), self.word.transform(with_boundaries(tokens)),
                          question_cues(clean)]
            else:
                blocks = [self.char.transform(clean), self.word.transform(tokens)]
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    # --- prediction ----------------------------------------------------------------

    def raw_proba(self, x: sparse.csr_matrix) -> np.ndarray:
        """One-vs-rest probabilities, normalised to sum to one (before the prior shift)."""
        z = np.asarray(x @ self._weights, dtype=np.float64) + self.intercept
        p = 1.0 / (1.0 + np.exp(-z))
        return p / p.sum(axis=1, keepdims=True)

    def proba_from_features(self, x: sparse.csr_matrix) -> np.ndarray:
        return shift_priors(self.raw_proba(x), self.log_prior_shift)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)))
        return self.proba_from_features(self.features(texts))

    # --- storage -------------------------------------------------------------------

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "format": np.frombuffer(FORMAT.encode(), dtype=np.uint8),
            "classes": np.frombuffer("\n".join(self.classes).encode(), dtype=np.uint8),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
            "log_prior_shift": np.asarray(self.log_prior_shift, dtype=np.float64),
            "meta": np.frombuffer(json.dumps(self.meta, ensure_ascii=False).encode(), dtype=np.uint8),
            "language": np.frombuffer(self.language.encode(), dtype=np.uint8),
            "feature_version": np.array([self.feature_version], dtype=np.int64),
            **self.char.to_arrays("char_"),
            **self.word.to_arrays("word_"),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            # allow_pickle spelled out (its default): numpy's stubs would match **arrays against it.
            np.savez_compressed(fh, allow_pickle=True, **arrays)

    @classmethod
    def load(cls, path: Path) -> ThaiSentimentModel:
        with np.load(path, allow_pickle=False) as arrays:
            fmt = arrays["format"].tobytes().decode()
            if fmt not in READABLE_FORMATS:
                raise ValueError(f"{path}: unknown model format {fmt!r} (expected {FORMAT!r})")
            language = arrays["language"].tobytes().decode() if "language" in arrays.files else "th"
            version = int(arrays["feature_version"][0]) if "feature_version" in arrays.files else 1
            return cls(
                char=CharNgrams.from_arrays(arrays, "char_"),
                word=WordNgrams.from_arrays(arrays, "word_"),
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                log_prior_shift=arrays["log_prior_shift"],
                classes=tuple(arrays["classes"].tobytes().decode().split("\n")),
                meta=json.loads(arrays["meta"].tobytes().decode()),
                language=language,
                feature_version=version,
            )


BOUNDARY_TOKENS = ("xxbos", "xxeos")


def with_boundaries(token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
    start, end = BOUNDARY_TOKENS
    return [[start, *tokens, end] for tokens in token_lists]


def shift_priors(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    q = p * np.exp(np.asarray(shift, dtype=np.float64))
    return q / q.sum(axis=1, keepdims=True)
