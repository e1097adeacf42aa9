"""Sentiment of customer messages in Thai and English: positive, neutral, negative, question.

    >>> from samphan.sentiment import classify
    >>> classify(["ราคาเท่าไหร่คะ", "Love it!"])
    [{"label": "question", "scores": {...}, "language": "th"}, {"label": "positive", ...}]

Thai goes to a linear model trained on the Wisesight corpus (``models/MODEL_CARD.md``);
English to VADER's lexicon and rules (``english.py``). The language is decided per message
by ``text.detect_language``. The Thai model loads once per process, offline, from the
artifact committed in ``models/``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "thai.npz"
LABEL_ORDER = ("positive", "neutral", "negative", "question")


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None):
    from samphan.sentiment.model import ThaiSentimentModel
    from samphan.sentiment.text import tokenize

    model = ThaiSentimentModel.load(Path(path) if path else DEFAULT_MODEL)
    tokenize("ทดสอบ")  # loads the tokenizer's dictionary now, not inside the first classify()
    return model


def classify(texts: list[str], *, model_path: str | Path | None = None) -> list[dict]:
    """One {"label", "scores", "language"} per text, in order; scores sum to 1."""
    from samphan.sentiment.english import classify_english
    from samphan.sentiment.model import LABELS
    from samphan.sentiment.text import detect_language

    results: list[dict] = [{} for _ in texts]
    thai_rows = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
        if detect_language(text) == "en":
            label, scores = classify_english(text)
            results[i] = _result(label, scores, "en")
        else:
            thai_rows.append(i)
    if thai_rows:
        model = load_model(model_path)
        proba = model.predict_proba([texts[i] for i in thai_rows])
        labels = [LABELS[c] for c in model.classes]
        for row, p in zip(thai_rows, proba, strict=True):
            scores = dict(zip(labels, (float(v) for v in p), strict=True))
            results[row] = _result(labels[int(p.argmax())], scores, "th")
    return results


def _result(label: str, scores: dict[str, float], language: str) -> dict:
    return {"label": label, "scores": {k: round(scores[k], 4) for k in LABEL_ORDER},
            "language": language}
