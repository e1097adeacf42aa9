"""Topic rules on Thai tokens and English words: the word-cutting cases, explicitly."""

from __future__ import annotations

import pytest

from samphan.core.errors import ValidationFailed
from samphan.listening.matching import TopicMatcher, parse_term, validate_terms

AIR, BRAND, COFFEE, EYE, SILK, AIRCON, HERMES_AWARE, DAIKIN = range(1, 9)


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher([
        (AIR, ["แอร์"], []),
        (BRAND, ["Samphan", "สัมพันธ์", "#SamphanDay", "@samphan_th"], []),
        (COFFEE, ["กาแฟ"], ["กาแฟสด"]),
        (EYE, ["ตา"], []),
        (SILK, ["ผ้าไหม"], []),
        (AIRCON, ["air con"], []),
        (HERMES_AWARE, ["แอร์"], ["แอร์เมส"]),
        (DAIKIN, ["แอร์ ไดกิ้น"], []),
    ])


@pytest.mark.parametrize(("text", "expected"), [
    # "แอร์" (air conditioner) inside the unknown word แอร์เมส (Hermès): newmm cuts it แอร์|เม|ส
    ("แอร์เมสสวยมาก", set()),
    ("กระเป๋าแอร์เมส ของแท้", set()),
    # ... but a real air conditioner, glued to known words, matches
    ("แอร์บ้านเสียอีกแล้ว", {AIR, HERMES_AWARE}),
    ("ซื้อแอร์ใหม่ที่ร้าน", {AIR, HERMES_AWARE}),
    ("แอร์ เย็นดี", {AIR, HERMES_AWARE}),
    # single tokens are not cut: ตา (eye) is not in ตาม (follow) nor ตามนั้น
    ("ตามนั้นเลย", set()),
    ("ตาแดงมาก", {EYE}),
    # กา is not in กาแฟ; กาแฟ is in compounds made of dictionary words, not in กาแฟสด (excluded)
    ("ร้านกาแฟแถวบ้าน", {COFFEE}),
    ("กาแฟเย็นหวานไป", {COFFEE}),
    ("กาแฟสดหอมมาก", set()),
    # the Thai brand name glued to Thai words
    ("ไปร้านสัมพันธ์มา", {BRAND}),
    # English: case-insensitive on word boundaries
    ("I love Samphan's cold brew", {BRAND}),
    ("SAMPHAN is great", {BRAND}),
    ("samphanese cooking", set()),
    ("ไปร้านSamphanมา", {BRAND}),  # Latin glued to Thai letters is still a word boundary
    ("The AIR-CON broke again", {AIRCON}),
    ("aircon", set()),
    # hashtags and handles
    ("วันนี้ #samphanday คนเยอะ", {BRAND}),
    ("#SamphanDay2026", set()),
    ("ขอบคุณ @Samphan_TH", {BRAND}),
    ("mail me at x@samphan_th.com", set()),
    # a phrase with a space is a token sequence; its words join the dictionary
    ("แอร์ไดกิ้นเสียงดัง", {AIR, HERMES_AWARE, DAIKIN}),
    ("ผ้าไหมไทยสวย", {SILK}),
    ("", set()),
])
def test_match(matcher, text, expected):
    assert matcher.match(text) == expected


def test_unknown_words_join_the_tokenizer_dictionary(matcher):
    assert {"แอร์เมส", "ไดกิ้น"} <= matcher.extra
    # with แอร์เมส known, the exclude term matches the whole word and "แอร์" does not
    assert TopicMatcher([(1, ["แอร์เมส"], [])]).match("กระเป๋าแอร์เมสใบนี้") == {1}


def test_exclude_wins_over_include():
    m = TopicMatcher([(1, ["apple"], ["apple pie"])])
    assert m.match("apple store") == {1}
    assert m.match("Apple pie and apple store") == set()


def test_terms_are_validated():
    assert parse_term("  Samphan   Coffee ").value == "samphan coffee"
    assert parse_term("#กาแฟสัมพันธ์").kind == "hashtag"
    assert parse_term("@brand.th").kind == "handle"
    with pytest.raises(ValidationFailed, match="hashtag"):
        parse_term("#two words")
    with pytest.raises(ValidationFailed, match="empty"):
        parse_term("   ")
    with pytest.raises(ValidationFailed, match="at most"):
        parse_term("x" * 101)
    with pytest.raises(ValidationFailed, match=r"include_terms\[1\]"):
        validate_terms(["ok", "#", "fine"], field_name="include_terms")
    assert validate_terms("a, b\nA", field_name="t") == ["a", "b"]
