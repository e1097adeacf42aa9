"""Sentiment classification (issue 6): accuracy and macro-F1 on valid.jsonl, messages/s on one core.

    .venv/bin/python benchmarks/sentiment_classify.py [--data DIR] [--model FILE] [--runs 3] [--json]

Also scores the English model on its two held-out files (samphan/sentiment/data/english:
vader-test.jsonl, customer-messages-test.jsonl) and times it the same way.

Pins itself to one CPU (sched_setaffinity) with one BLAS/OpenMP thread, loads the committed
model, scores the whole pipeline (language detection, Thai model, English rules) on the
validation split, and times ``classify`` over all of its messages in one batch, best of
``--runs``. Wall-clock and CPU-time rates are both printed: on a machine shared with other
work the CPU-time one is the better estimate of what one free core does. Targets: accuracy
≥ 0.74, macro-F1 ≥ 0.62, ≥ 3,000 messages/s.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samphan.sentiment import DEFAULT_MODEL, classify, load_english_model, load_model  # noqa: E402
from samphan.sentiment.training import category_of, read_labelled_jsonl, scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "wisesight-sentiment")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    started = time.perf_counter()
    load_model(args.model)
    load_seconds = time.perf_counter() - started
    examples = read_labelled_jsonl(args.data / "valid.jsonl")
    texts = [e.text for e in examples]
    classify(texts[:50], model_path=args.model)  # warm the tokenizer's dictionary

    best_wall = best_cpu = float("inf")
    results: list[dict] = []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        results = classify(texts, model_path=args.model)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    one_at_a_time = texts[:500]
    wall = time.perf_counter()
    for text in one_at_a_time:
        classify([text], model_path=args.model)
    single_seconds = time.perf_counter() - wall

    report = scores([e.category for e in examples], [category_of(r["label"]) for r in results])
    report["english"] = english_report(args.runs)
    report.update({
        "messages_per_second": round(len(texts) / best_wall),
        "messages_per_second_cpu_time": round(len(texts) / best_cpu),
        "messages_per_second_one_per_call": round(len(one_at_a_time) / single_seconds),
        "runs": args.runs,
        "model": str(args.model),
        "model_mb": round(args.model.stat().st_size / 1e6, 2),
        "load_seconds": round(load_seconds, 2),
        "english_messages": sum(r["language"] == "en" for r in results),
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    })
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    print(f"valid.jsonl: {report['n']:,} messages ({report['english_messages']} routed to English)")
    print(f"accuracy {report['accuracy']:.4f} (target 0.74), macro-F1 {report['macro_f1']:.4f} (target 0.62)")
    print("per-class F1: " + ", ".join(f"{k} {v:.4f}" for k, v in report["per_class"].items() if v is not None))
    print(f"throughput, one core, best of {args.runs}: {report['messages_per_second']:,} messages/s wall clock, "
          f"{report['messages_per_second_cpu_time']:,} messages/s of CPU time (target 3,000)")
    print(f"one message per call: {report['messages_per_second_one_per_call']:,} messages/s")
    print(f"model {report['model_mb']} MB, loads in {report['load_seconds']} s")
    for name, r in report["english"].items():
        print(f"English {name}: {r['n']:,} messages, accuracy {r['accuracy']:.4f}, macro-F1 {r['macro_f1']:.4f}, "
              f"{r['messages_per_second']:,} messages/s wall clock, {r['messages_per_second_cpu_time']:,} of CPU time")


def english_report(runs: int) -> dict:
    load_english_model()
    out = {}
    for name in ("vader-test.jsonl", "customer-messages-test.jsonl"):
        examples = read_labelled_jsonl(ROOT / "samphan" / "sentiment" / "data" / "english" / name)
        texts = [e.text for e in examples]
        classify(texts[:20])
        best_wall = best_cpu = float("inf")
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            results = classify(texts)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        r = scores([e.category for e in examples], [category_of(x["label"]) for x in results])
        r["messages_per_second"] = round(len(texts) / best_wall)
        r["messages_per_second_cpu_time"] = round(len(texts) / best_cpu)
        out[name] = r
    return out


if __name__ == "__main__":
    main()
