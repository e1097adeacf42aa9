"""English: a linear model trained on VADER's human-rated tweets and Amazon snippets, plus a question rule.

The model (``models/english.npz``, trained by ``samphan sentiment train --language en``) is the
same kind as the Thai one: TF-IDF character and word n-grams and one-vs-rest logistic
regression, with four more columns from VADER's lexicon and rules (compound, positive,
negative and neutral share, ``lexicon_features``), so the 6,300 training messages add to
VADER's 7,500 rated words instead of starting from nothing. The dev half of the hand-written
customer messages (``data/english/customer-messages-dev.jsonl``, 170, the only in-domain
examples and the only ones labelled "question") joins the training set with weight 3; the
test half is never trained on.

The rated corpus (``data/english/README.md``) has no question label, so questions are also a
rule on top (``question_rule``): a message that looks like a question (``text.ENGLISH_QUESTION``)
and that the model does not find clearly negative (P(negative) < ``NEGATIVE_GUARD``) is
``question``, with a score of at least ``QUESTION_SCORE``. "Where is my refund?? This is
ridiculous" stays negative. The guard was chosen on the dev half, never on the test half.

Without a trained model file, VADER's compound alone decides (``vader_only``): ≥ 0.05
positive, ≤ -0.05 negative, else neutral, with the same question rule (guard: compound > -0.5).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

from samphan.sentiment.text import looks_like_question

NEGATIVE_GUARD = 0.6
QUESTION_SCORE = 0.6
STRONGLY_NEGATIVE = -0.5  # the guard of the VADER-only fallback, on the compound score
LEXICON_COLUMNS = 4

# Words with an inner apostrophe (don't), numbers, and any other non-space character on its own
# (emoji, "!", "?"), on text that ``text.normalise`` has lower-cased.
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[^\sa-z0-9]")


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def english_tokens(normalised: str) -> list[str]:
    return _TOKEN.findall(normalised)


def lexicon_features(texts: Sequence[str]) -> sparse.csr_matrix:
    """VADER on the raw text (it reads capitals and "!!!"): compound, pos, neg, neu per message."""
    polarity = _analyzer().polarity_scores
    rows = np.zeros((len(texts), LEXICON_COLUMNS), dtype=np.float32)
    for i, text in enumerate(texts):
        s = polarity(text)
        rows[i] = (s["compound"], s["pos"], s["neg"], s["neu"])
    return sparse.csr_matrix(rows)


def question_rule(text: str, scores: dict[str, float]) -> tuple[str, dict[str, float]]:
    """Label and scores (summing to 1) once the question rule has looked at ``text``.

    When it fires, "question" gets at least ``QUESTION_SCORE`` and the others share the rest in
    their proportions; otherwise the model's own argmax (which may be "question" too) stands.
    """
    total = sum(scores.values()) or 1.0
    scores = {k: v / total for k, v in scores.items()}
    if looks_like_question(text, "en") and scores.get("negative", 0.0) < NEGATIVE_GUARD:
        q = max(QUESTION_SCORE, scores.get("question", 0.0))
        rest = sum(v for k, v in scores.items() if k != "question") or 1.0
        out = {k: (1 - q) * v / rest for k, v in scores.items() if k != "question"}
        out["question"] = q
        return "question", out
    return max(scores, key=scores.__getitem__), scores


def vader_only(text: str) -> tuple[str, dict[str, float]]:
    """The rules alone (no trained model): VADER's compound and its own thresholds."""
    compound = _analyzer().polarity_scores(text)["compound"]
    logits = {"positive": 3 * compound, "negative": -3 * compound, "neutral": 3 * (0.1 - abs(compound))}
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    question = looks_like_question(text, "en") and compound > STRONGLY_NEGATIVE
    q = QUESTION_SCORE if question else 0.02
    scores = {k: (1 - q) * v / total for k, v in exp.items()}
    scores["question"] = q
    label = "question" if question else max(logits, key=logits.__getitem__)
    return label, scores


def classify_english(text: str) -> tuple[str, dict[str, float]]:
    """One English message: (label, scores). Batches go through ``samphan.sentiment.classify``."""
    from samphan.sentiment import classify

    [result] = classify([text], language="en")
    return result["label"], result["scores"]
