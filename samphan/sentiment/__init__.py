"""Sentiment of customer messages in Thai and English: positive, neutral, negative, question.

    >>> from samphan.sentiment import classify
    >>> classify(["ราคาเท่าไหร่คะ", "Love it!"])
    [{"label": "question", "scores": {...}, "language": "th"}, {"label": "positive", ...}]

Thai goes to a linear model trained on the Wisesight corpus, English to a linear model trained
on VADER's human-rated tweets and review snippets with VADER's lexicon as features and a
question rule on top (``english.py``); ``models/MODEL_CARD.md`` describes both. The language
is decided per message by ``text.detect_language``. Each model loads once per process,
offline, from the artifacts committed in ``models/``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "thai.npz"
DEFAULT_ENGLISH_MODEL = Path(__file__).resolve().parent / "models" / "english.npz"
LABEL_ORDER = ("positive", "neutral", "negative", "question")


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None):
    from samphan.sentiment.model import ThaiSentimentModel
    from samphan.sentiment.text import tokenize

    model = ThaiSentimentModel.load(Path(path) if path else DEFAULT_MODEL)
    tokenize("ทดสอบ")  # loads the tokenizer's dictionary now, not inside the first classify()
    return model


@lru_cache(maxsize=4)
def load_english_model(path: str | Path | None = None):
    """The English model, or None when no file is there (then VADER's rules alone decide)."""
    from samphan.sentiment.model import ThaiSentimentModel

    path = Path(path) if path else DEFAULT_ENGLISH_MODEL
    if not path.exists():
        return None
    model = ThaiSentimentModel.load(path)
    if model.language != "en":
        raise ValueError(f"{path}: a {model.language!r} model, not an English one")
    return model


def classify(texts: list[str], *, model_path: str | Path | None = None,
             english_model_path: str | Path | None = None, language: str | None = None) -> list[dict]:
    """One {"label", "scores", "language"} per text, in order; scores sum to 1.

    ``language`` ("th" or "en") skips detection and sends every text to that language's model.
    """
    from samphan.sentiment.english import question_rule, vader_only
    from samphan.sentiment.model import LABELS
    from samphan.sentiment.text import detect_language

    if language not in (None, "th", "en"):
        raise ValueError(f"language must be 'th', 'en' or None, not {language!r}")
    results: list[dict] = [{} for _ in texts]
    rows: dict[str, list[int]] = {"th": [], "en": []}
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
        rows[language or detect_language(text)].append(i)
    if rows["th"]:
        model = load_model(model_path)
        proba = model.predict_proba([texts[i] for i in rows["th"]])
        labels = [LABELS[c] for c in model.classes]
        for row, p in zip(rows["th"], proba, strict=True):
            scores = dict(zip(labels, (float(v) for v in p), strict=True))
            results[row] = _result(labels[int(p.argmax())], scores, "th")
    if rows["en"]:
        english = load_english_model(english_model_path)
        if english is None:
            for row in rows["en"]:
                results[row] = _result(*vader_only(texts[row]), "en")
        else:
            proba = english.predict_proba([texts[i] for i in rows["en"]])
            labels = [LABELS[c] for c in english.classes]
            for row, p in zip(rows["en"], proba, strict=True):
                scores = dict(zip(labels, (float(v) for v in p), strict=True))
                results[row] = _result(*question_rule(texts[row], scores), "en")
    return results


def _result(label: str, scores: dict[str, float], language: str) -> dict:
    return {"label": label, "scores": {k: round(scores[k], 4) for k in LABEL_ORDER},
            "language": language}
