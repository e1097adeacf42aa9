"""English: VADER's lexicon and rules (the ``vaderSentiment`` wheel ships its lexicon), plus a
question detector. No labelled English corpus is available offline, so nothing here is trained.

Rules, in order:
1. a question (``text.ENGLISH_QUESTION``: a "?", or a line opening with a question word or an
   auxiliary verb) that is not strongly negative (VADER compound > -0.5) → question;
2. compound >= 0.05 → positive, <= -0.05 → negative (VADER's own thresholds), else neutral.
The scores are a softmax of the compound (logits 3c, -3c and 3(0.1 - |c|) for positive,
negative and neutral, so their argmax agrees with rule 2), with 0.6 given to "question" when
rule 1 fires and 0.02 otherwise. They are rule confidences, not calibrated probabilities.
"""

from __future__ import annotations

import math
from functools import lru_cache

from samphan.sentiment.text import looks_like_question

STRONGLY_NEGATIVE = -0.5


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def classify_english(text: str) -> tuple[str, dict[str, float]]:
    compound = _analyzer().polarity_scores(text)["compound"]
    logits = {"positive": 3 * compound, "negative": -3 * compound, "neutral": 3 * (0.1 - abs(compound))}
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    question = looks_like_question(text, "en") and compound > STRONGLY_NEGATIVE
    q = 0.6 if question else 0.02
    scores = {k: (1 - q) * v / total for k, v in exp.items()}
    scores["question"] = q
    label = "question" if question else max(logits, key=logits.__getitem__)
    return label, scores
