from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from samphan.sentiment.features import CharNgrams, WordNgrams

TEXTS = ["ชอบมากค่ะ 😍", "แย่มาก ไม่ประทับใจ", "ราคาเท่าไหร่คะ", "ชอบมาก", "a", "", "ไม่ชอบ 555", "มากค่ะ"]


def test_char_ngrams_equal_scikit_learn():
    ours = CharNgrams(1, 5, min_df=2).fit(TEXTS)
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True, min_df=2).fit(TEXTS)
    assert ours.n_features == len(theirs.vocabulary_)
    a, b = ours.transform([*TEXTS, "ใหม่ ชอบ"]), theirs.transform([*TEXTS, "ใหม่ ชอบ"])
    for i in range(a.shape[0]):
        assert np.allclose(np.sort(a[i].data), np.sort(b[i].data), atol=1e-6)


def test_word_ngrams_and_round_trip():
    tokens = [["ชอบ", "มาก"], ["แย่", "มาก"], ["ชอบ", "มาก", "ค่ะ"], []]
    words = WordNgrams(min_df=2).fit(tokens)
    assert set(words.vocabulary) == {"ชอบ", "มาก", "ชอบ มาก"}
    again = WordNgrams.from_arrays(words.to_arrays("w_"), "w_")
    assert again.vocabulary == words.vocabulary
    assert (again.transform(tokens) != words.transform(tokens)).nnz == 0
    chars = CharNgrams().fit(TEXTS)
    chars2 = CharNgrams.from_arrays(chars.to_arrays("c_"), "c_")
    assert (chars2.transform(TEXTS) != chars.transform(TEXTS)).nnz == 0


def test_unknown_and_empty_texts():
    chars = CharNgrams().fit(TEXTS)
    x = chars.transform(["", "xyzxyz"])
    assert x.shape == (2, chars.n_features) and x.nnz == 0
