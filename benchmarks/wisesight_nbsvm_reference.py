"""The corpus authors' NBSVM baseline for Wisesight, re-run on valid.jsonl: how hard is valid?

    .venv/bin/pip install emoji   # PyThaiNLP's ULMFiT text rules need it (not a project dependency)
    .venv/bin/python benchmarks/wisesight_nbsvm_reference.py [--data DIR] [--json]

vistec-AI/thai2transformers published NBSVM at 0.720 accuracy / 0.547 macro-F1 on Wisesight's
official test split (notebooks/train_sequence_multiclass_nbsvm.ipynb), where the same notebook
also prints its validation accuracy for C = 1…4 (0.7205 at C = 3, the C it chose). This script
follows that recipe as described there, written anew: PyThaiNLP's ``process_thai`` (the sparse
ULMFiT rules around newmm with the thai2fit dictionary), TF-IDF of word uni+bi-grams (min_df 3,
max_df 0.9, strip_accents="unicode", sublinear tf), then per class a logistic regression
(liblinear, dual, L2) on features scaled by that class's naive-Bayes log-count ratio, and the
argmax of the four probabilities. Trained on train.jsonl, scored on valid.jsonl.

Two things differ from the PyThaiNLP of 2020 and are put back: ``process_thai`` now tokenises
with multi-cut instead of newmm (that alone costs 2 points of accuracy on valid), and its first
rule is ``reorder_vowels`` where it was ``normalize``. ``pythainlp.ulmfit`` imports torch only
for a device constant; a stand-in module is put in its place so torch need not be installed.
Importing it also makes PyThaiNLP look for its corpus catalogue online (for the ULMFiT weights,
unused here); offline that fails with a printed warning and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def process_thai_2020():
    if "torch" not in sys.modules:
        stand_in = types.ModuleType("torch")
        stand_in.device = lambda *args, **kwargs: "cpu"
        stand_in.cuda = types.SimpleNamespace(is_available=lambda: False)
        sys.modules["torch"] = stand_in
    try:
        from pythainlp.ulmfit import core
    except ModuleNotFoundError as exc:
        sys.exit(f"{exc}: install it with .venv/bin/pip install {exc.name}")
    from pythainlp.corpus import get_corpus
    from pythainlp.tokenize import Tokenizer
    from pythainlp.util import normalize

    newmm = Tokenizer(custom_dict=get_corpus("words_th_thai2fit_201810.txt"), engine="newmm")
    rules = [normalize if rule.__name__ == "reorder_vowels" else rule for rule in core.pre_rules_th_sparse]

    def process(text: str) -> list[str]:
        return core.process_thai(text, pre_rules=rules, tok_func=newmm.word_tokenize)

    return process


def nbsvm_proba(x_train, y_train, x_test, classes, c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    proba = np.zeros((x_test.shape[0], len(classes)))
    for k, category in enumerate(classes):
        target = (y_train == category).astype(int)
        inside = (np.asarray(x_train[target == 1].sum(0)).ravel() + 1) / (target.sum() + 1)
        outside = (np.asarray(x_train[target == 0].sum(0)).ravel() + 1) / ((1 - target).sum() + 1)
        ratio = sparse.diags(np.log(inside / outside))
        clf = LogisticRegression(C=c, solver="liblinear", dual=True, random_state=1412)
        clf.fit(x_train @ ratio, target)
        proba[:, k] = clf.predict_proba(x_test @ ratio)[:, 1]
    return proba


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "wisesight-sentiment")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # the corpus catalogue lookup offline, sklearn deprecations

    from sklearn.feature_extraction.text import TfidfVectorizer

    from samphan.sentiment.training import read_labelled_jsonl, scores

    train = read_labelled_jsonl(args.data / "train.jsonl")
    valid = read_labelled_jsonl(args.data / "valid.jsonl")
    y_train = np.array([e.category for e in train])
    tfidf = TfidfVectorizer(ngram_range=(1, 2), tokenizer=process_thai_2020(), token_pattern=None,
                            lowercase=True, min_df=3, max_df=0.9, strip_accents="unicode",
                            use_idf=True, smooth_idf=True, sublinear_tf=True)
    x_train = tfidf.fit_transform([e.text for e in train]).tocsr()
    x_valid = tfidf.transform([e.text for e in valid]).tocsr()
    classes = np.array(sorted(set(y_train)))
    results = {"features": x_train.shape[1], "valid": {}}
    for c in (1.0, 2.0, 3.0, 4.0):
        predicted = classes[nbsvm_proba(x_train, y_train, x_valid, classes, c).argmax(1)]
        results["valid"][f"C={c:g}"] = scores([e.category for e in valid], predicted)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['features']:,} word uni+bi-gram features")
    for name, s in results["valid"].items():
        per_class = ", ".join(f"{label} {v:.3f}" for label, v in s["per_class"].items())
        print(f"{name}: valid accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f} (F1 {per_class})")


if __name__ == "__main__":
    main()
