"""``samphan sentiment evaluate``: accuracy, macro-F1, per-class F1 and throughput on a labelled file."""

from __future__ import annotations

import time
from pathlib import Path

from samphan.sentiment import classify, load_english_model, load_model
from samphan.sentiment.training import category_of, read_labelled_jsonl, scores


def evaluate(path: str | Path, *, model_path: str | Path | None = None,
             english_model_path: str | Path | None = None) -> dict:
    """Scores of the whole pipeline (language detection, Thai model, English model and question
    rule) on a file. Loading the models is not part of the throughput."""
    examples = read_labelled_jsonl(path)
    texts = [e.text for e in examples]
    load_model(model_path)
    load_english_model(english_model_path)
    classify(texts[:20], model_path=model_path, english_model_path=english_model_path)  # warm the lexicons
    started = time.perf_counter()
    results = classify(texts, model_path=model_path, english_model_path=english_model_path)
    seconds = time.perf_counter() - started
    report = scores([e.category for e in examples], [category_of(r["label"]) for r in results])
    report["messages_per_second"] = round(len(texts) / seconds) if seconds > 0 else None
    report["languages"] = {lang: sum(r["language"] == lang for r in results) for lang in ("th", "en")}
    return report
