from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import sparse

from samphan.core.errors import ValidationFailed
from samphan.sentiment import classify
from samphan.sentiment.model import ThaiSentimentModel
from samphan.sentiment.training import Example, _fit_ovr, nb_log_ratio, read_labelled_jsonl, train


@pytest.fixture(scope="module")
def tiny_model(tiny_corpus, tmp_path_factory):
    examples = read_labelled_jsonl(tiny_corpus / "train.jsonl")
    model, report = train(examples, valid=read_labelled_jsonl(tiny_corpus / "valid.jsonl"), folds=3)
    path = tmp_path_factory.mktemp("model") / "thai.npz"
    model.save(path)
    return model, report, path


def test_training_learns_the_tiny_corpus(tiny_model):
    _, report, path = tiny_model
    assert report.folds == 3 and report.out_of_fold["after_shift"]["n"] == report.n_train
    assert report.validation["accuracy"] >= 0.9
    results = classify(["ครีมนี้ราคาเท่าไหร่คะ", "ผิดหวังกับร้านนี้มาก", "ชอบมากเลยค่ะ"], model_path=path)
    assert [r["label"] for r in results] == ["question", "negative", "positive"]
    for r in results:
        assert r["language"] == "th"
        assert set(r["scores"]) == {"positive", "neutral", "negative", "question"}
        assert abs(sum(r["scores"].values()) - 1) < 1e-3


def test_saved_model_round_trips(tiny_model):
    model, _, path = tiny_model
    loaded = ThaiSentimentModel.load(path)
    texts = ["ชอบ", "แย่มาก", "เท่าไหร่", ""]
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    assert loaded.meta["n_train"] == model.meta["n_train"]


def test_extra_examples_change_the_model(tiny_corpus):
    examples = read_labelled_jsonl(tiny_corpus / "train.jsonl")
    # An agent insists that "ปังมาก" (slang: great) is positive.
    extra = [Example("ปังมาก", "pos"), Example("ปังมาก ปังสุดๆ", "pos")] * 5
    model, report = train(examples, extra=extra, folds=0)
    assert report.n_extra == 10
    assert model.classes[int(model.predict_proba(["ปังมาก"])[0].argmax())] == "pos"


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 2: not valid JSON"),
    ('["a"]', "line 2: expected a JSON object"),
    ('{"texts": 5, "category": "pos"}', 'line 2: "texts" must be a string'),
    ('{"texts": "x"}', 'line 2: "category" must be one of'),
    ('{"texts": "x", "category": "happy"}', "line 2: unknown category 'happy'"),
])
def test_bad_jsonl_names_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"texts": "ดี", "category": "pos"}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_labelled_jsonl(path)
    assert message in exc.value.message and str(path) in exc.value.message


def test_labels_as_well_as_categories(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text('{"texts": "ดี", "category": "positive"}\n\n{"text": "ไหม", "label": "q"}\n', encoding="utf-8")
    assert [e.category for e in read_labelled_jsonl(path)] == ["pos", "q"]


def test_missing_file(tmp_path):
    with pytest.raises(ValidationFailed, match="no such file"):
        read_labelled_jsonl(tmp_path / "nope.jsonl")


def _arrays(path):
    with np.load(path, allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}


def test_training_is_deterministic(tiny_corpus, tmp_path):
    """Same data and seed → the same artifact, array for array (only the timing in meta differs)."""
    examples = read_labelled_jsonl(tiny_corpus / "train.jsonl")
    paths = []
    for run in ("a", "b"):
        model, _ = train(examples, folds=3, seed=7)
        paths.append(tmp_path / f"{run}.npz")
        model.save(paths[-1])
    first, second = (_arrays(p) for p in paths)
    assert first.keys() == second.keys()
    for name in first:
        if name == "meta":
            continue
        assert np.array_equal(first[name], second[name]), name
    meta = [json.loads(a["meta"].tobytes()) for a in (first, second)]
    for m in meta:
        m.pop("trained_at"), m.pop("seconds")
    assert meta[0] == meta[1]


def test_english_training_on_a_tiny_set(tmp_path):
    rows = [("I love it, thank you!", "pos"), ("Great service, so happy", "pos"), ("Awesome app 😍", "pos"),
            ("Terrible, never again", "neg"), ("Broken on arrival, awful", "neg"), ("Worst support ever", "neg"),
            ("The shop opens at 10", "neu"), ("I live in Bangkok", "neu"), ("Order number 1234", "neu")] * 3
    model, report = train([Example(t, c) for t, c in rows], folds=3, language="en")
    assert model.language == "en" and report.out_of_fold["after_shift"]["per_class"]["question"] is None
    assert report.nb_weight == 0.0  # English stays plain LR (VADER's columns can be negative)
    path = tmp_path / "english.npz"
    model.save(path)
    results = classify(["so happy with it, thanks", "awful, broken again"], english_model_path=path)
    assert [r["label"] for r in results] == ["positive", "negative"]
    assert ThaiSentimentModel.load(path).language == "en"


def test_new_thai_models_see_boundaries_and_question_cues(tiny_model):
    model, _, _ = tiny_model
    assert model.feature_version == 2
    assert "xxbos" in model.word.vocabulary and "xxeos" in model.word.vocabulary
    x = model.features(["ราคาเท่าไหร่คะ", "ชอบมาก", "จริงเหรอ?"])
    assert x.shape[1] == model.char.n_features + model.word.n_features + 2
    assert x[:, -2:].toarray().tolist() == [[1, 0], [0, 0], [1, 1]]


def test_a_version_1_file_still_loads_and_predicts_the_same(tiny_model, tmp_path):
    """Models saved before feature_version existed (format /1: no language, no version) keep working."""
    model, _, path = tiny_model
    old = ThaiSentimentModel(char=model.char, word=model.word, coef=model.coef[:, :-2],
                             intercept=model.intercept, log_prior_shift=model.log_prior_shift, feature_version=1)
    arrays = _arrays(path)
    del arrays["language"], arrays["feature_version"]
    arrays["format"] = np.frombuffer(b"samphan-sentiment-linear/1", dtype=np.uint8)
    arrays["coef"] = old.coef
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    loaded = ThaiSentimentModel.load(tmp_path / "old.npz")
    assert (loaded.language, loaded.feature_version) == ("th", 1)
    texts = ["ชอบ", "แย่มาก", "เท่าไหร่"]
    assert np.allclose(loaded.predict_proba(texts), old.predict_proba(texts), atol=1e-6)


def test_nb_log_ratio_by_hand():
    # two features, three examples; the first two are the class
    x = sparse.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]))
    target = np.array([1, 1, 0])
    r = nb_log_ratio(x, target, np.ones(3))
    # feature 0: (1.5 + 1) / (2 + 1) in the class, (0 + 1) / (1 + 1) outside
    assert np.allclose(r, [np.log((2.5 / 3) / (1 / 2)), np.log((1.5 / 3) / (2 / 2))])
    # a weight of 2 counts an example twice
    doubled = nb_log_ratio(sparse.vstack([x, x[2]]).tocsr(), np.array([1, 1, 0, 0]), np.ones(4))
    assert np.allclose(nb_log_ratio(x, target, np.array([1.0, 1.0, 2.0])), doubled)


def test_nb_blend_is_the_average_of_the_two_regressions(tiny_corpus):
    """nb_weight 0.5 stores, per class, half the plain LR weights plus half the NB-LR weights
    folded back onto the features (r · w), so its logits are the average of the two models';
    the question class keeps the plain regression (NB_PLAIN_CLASSES)."""
    model, _ = train(read_labelled_jsonl(tiny_corpus / "train.jsonl"), folds=0)
    texts = [e.text for e in read_labelled_jsonl(tiny_corpus / "train.jsonl")]
    x = model.features(texts)
    y = np.array([e.category for e in read_labelled_jsonl(tiny_corpus / "train.jsonl")])
    w = np.ones(len(y))
    plain, plain_b = _fit_ovr(x, y, w, 2.0, 0, nb_weight=0.0)
    nb, nb_b = _fit_ovr(x, y, w, 2.0, 0, nb_weight=1.0)
    blend, blend_b = _fit_ovr(x, y, w, 2.0, 0, nb_weight=0.5)
    q = model.classes.index("q")
    blended = [k for k in range(len(model.classes)) if k != q]
    assert np.allclose(blend[blended], (plain[blended] + nb[blended]) / 2, atol=1e-6)
    assert np.allclose(blend_b[blended], (plain_b[blended] + nb_b[blended]) / 2)
    assert np.array_equal(blend[q], plain[q]) and np.array_equal(nb[q], plain[q])
    assert not np.allclose(nb[blended], plain[blended], atol=1e-3)
    assert np.allclose(model.coef, blend, atol=1e-6)  # train() uses 0.5 for Thai
    # pure NB-LR is a logistic regression on x · diag(r), its weights multiplied back by r
    from sklearn.linear_model import LogisticRegression

    k = model.classes.index("neg")
    target = (y == "neg").astype(int)
    r = nb_log_ratio(x, target, w)
    clf = LogisticRegression(C=2.0, solver="liblinear", dual=True, max_iter=1000, random_state=0)
    clf.fit(x @ sparse.diags(r), target, sample_weight=w)
    assert np.allclose(nb[k], clf.coef_[0] * r, atol=1e-6) and np.isclose(nb_b[k], clf.intercept_[0])

def test_nb_weight_defaults_and_bounds(tiny_corpus):
    examples = read_labelled_jsonl(tiny_corpus / "train.jsonl")
    model, report = train(examples, folds=0, nb_weight=0.0)
    assert report.nb_weight == 0.0 and model.meta["nb_weight"] == 0.0
    assert train(examples, folds=0)[0].meta["nb_weight"] == 0.5
    with pytest.raises(ValidationFailed, match="nb_weight"):
        train(examples, folds=0, nb_weight=1.5)
