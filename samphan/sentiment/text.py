"""Text handling shared by training and classification: normalisation, language, questions, tokens.

Everything here is regular expressions and one call into PyThaiNLP's Rust tokenizer, because
classification has to keep up with thousands of messages a second on one core
(`pythainlp.util.normalize` and the pure-Python ``newmm`` engine alone run at ~2,000 a second).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

# Thai consonants, vowels and marks (U+0E01–U+0E4E); digits and ฯ/๏/๚/๛ are not letters.
_THAI_LETTER = re.compile("[\u0e01-\u0e4e]")
_LATIN_LETTER = re.compile("[A-Za-z]")

_ZERO_WIDTH = re.compile("[\u0000\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w.])@[\w.]+")
# A run of 4+ of one character becomes 3: 555555 → 555, มากกกกก → มากกก, !!!!!! → !!!.
_REPEAT = re.compile(r"(.)\1{3,}", re.DOTALL)
# The same Thai combining mark typed twice (ก่่ → ก่), and SARA AM typed as NIKHAHIT + SARA AA.
_DOUBLE_MARK = re.compile("([\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])\\1+")
_SPACES = re.compile(r"\s+")

URL_TOKEN = "xxurl"  # noqa: S105 (a placeholder word, not a secret)
MENTION_TOKEN = "xxmention"  # noqa: S105


def normalise(text: str) -> str:
    """A fast subset of ``pythainlp.util.normalize`` plus social-media clean-up.

    Lower-cases Latin letters, drops zero-width characters, replaces URLs and @mentions by
    placeholders, fixes เเ → แ and ํา → ำ, removes doubled Thai marks, squashes character
    runs, puts spaces around the repetition mark ๆ and collapses whitespace. Emoji are kept.
    """
    text = _ZERO_WIDTH.sub("", text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _MENTION.sub(f" {MENTION_TOKEN} ", text)
    text = text.replace("เเ", "แ").replace("\u0e4d\u0e32", "\u0e33")
    text = _DOUBLE_MARK.sub(r"\1", text)
    text = _REPEAT.sub(lambda m: m.group(1) * 3, text)
    text = text.replace("ๆ", " ๆ ")
    return _SPACES.sub(" ", text).strip().lower()


def detect_language(text: str) -> str:
    """"en" when the message has Latin letters and fewer than 10 % of its letters are Thai, else "th".

    Messages without letters (emoji, 555, prices) go to the Thai model, which learned them
    from Thai social media; so do Thai messages that mention an English brand name.
    """
    latin = len(_LATIN_LETTER.findall(text))
    if not latin:
        return "th"
    thai = len(_THAI_LETTER.findall(text))
    return "en" if thai < 0.1 * (thai + latin) else "th"


@lru_cache(maxsize=1)
def _tokenizer():
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def tokenize(text: str) -> list[str]:
    """Words of a normalised message: PyThaiNLP's newmm algorithm in its Rust build (``nlpo3``)."""
    word_tokenize = _tokenizer()
    # keep_whitespace=False would strip every token twice in Python; this is the same result, once.
    return [s for t in word_tokenize(text, engine="nlpo3", keep_whitespace=True)
            if (s := t.strip(" ")) and not s.isspace()]


# Question cues. Thai: final particles and question words, including common social-media
# spellings (มั้ย, มัย, ป่าว, เท่ารัย …). English: a question mark, or a sentence that opens
# with a question word or an auxiliary verb.
THAI_QUESTION = re.compile(
    "ไหม|มั้ย|มั๊ย|มัย|หรือเปล่า|รึเปล่า|หรือป่าว|รึป่าว|ป่าว|หรือยัง|รึยัง|เท่าไ|เท่ารัย|ยังไง|อย่างไร|"
    "ที่ไหน|ตรงไหน|อันไหน|แบบไหน|ตัวไหน|สาขาไหน|เมื่อไ|กี่|อะไร|อะไง|ทำไม|ใช่ไหม|หรอ|เหรอ|"
    "สอบถาม|อยากทราบ|ได้ป่าว|ไร(?:คะ|ครับ|คับ|ค่ะ|อ่ะ|อะ)"
)
ENGLISH_QUESTION = re.compile(
    r"\?|^(?:how|what|when|where|why|which|who|whom|whose|can|could|do|does|did|is|are|was|were|"
    r"will|would|should|shall|may|might|have|has|any|anyone)\b",
    re.IGNORECASE | re.MULTILINE,
)


def question_cues(normalised_texts: Sequence[str]) -> sparse.csr_matrix:
    """Two columns per message for the Thai model: a Thai question word or particle anywhere
    (``THAI_QUESTION``, which pools the spellings ไหม/มั้ย/มัย… that word n-grams see apart), and "?"."""
    rows = np.array([(bool(THAI_QUESTION.search(t)), "?" in t) for t in normalised_texts],
                    dtype=np.float32).reshape(len(normalised_texts), 2)
    return sparse.csr_matrix(rows)


def looks_like_question(text: str, language: str) -> bool:
    if language == "en":
        return bool(ENGLISH_QUESTION.search(text.strip()))
    return "?" in text or bool(THAI_QUESTION.search(text))
