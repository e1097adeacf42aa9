from __future__ import annotations

import pytest

from samphan.sentiment.text import detect_language, looks_like_question, normalise, tokenize


@pytest.mark.parametrize(("raw", "expected"), [
    ("555555555", "555"),
    ("ดีมากกกกกกก!!!!!!", "ดีมากกก!!!"),
    ("ไปมาเเล้ว", "ไปมาแล้ว"),
    ("ดู https://example.com/x?a=1 นะ", "ดู xxurl นะ"),
    ("@somchai ขอบคุณค่ะ", "xxmention ขอบคุณค่ะ"),
    ("เร็วๆ  นี้\u200b", "เร็ว ๆ นี้"),
    ("Hello WORLD 😍", "hello world 😍"),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(("text", "language"), [
    ("ชอบมากค่ะ", "th"),
    ("สนใจ new mazda2 ครับ", "th"),  # Thai with an English model name stays Thai
    ("I love this shop!", "en"),
    ("Where is my order? 😡", "en"),
    ("😍😍", "th"),  # no letters: the Thai model knows emoji and 555 from Thai social media
    ("555", "th"),
    ("", "th"),
])
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(("text", "language", "question"), [
    ("ราคาเท่าไหร่คะ", "th", True),
    ("มีสาขาที่เชียงใหม่มั้ยครับ", "th", True),
    ("ใช้ดีไหม", "th", True),
    ("ชอบมากค่ะ", "th", False),
    ("Where is my order", "en", True),
    ("is it available in red?", "en", True),
    ("I love it", "en", False),
])
def test_looks_like_question(text, language, question):
    assert looks_like_question(text, language) is question


def test_tokenize_drops_whitespace():
    tokens = tokenize(normalise("ไปจองมาแล้ว  Mitsubishi 555"))
    assert "ไป" in tokens and "mitsubishi" in tokens and "555" in tokens
    assert all(t.strip() for t in tokens)


@pytest.mark.parametrize(("text", "language"), [
    # Thai with English product names, codes and loanwords stays Thai ...
    ("สั่ง iPhone 15 Pro Max ไปแล้ว ยังไม่ได้ของเลยค่ะ", "th"),
    ("Order #A1234 ยังไม่มาเลยค่ะ", "th"),
    ("OK thanks ครับ", "th"),
    ("ร้าน Starbucks สาขา Siam Paragon เปิดกี่โมง", "th"),
    ("Samsung Galaxy S24 Ultra 256GB Titanium Gray ราคา", "th"),  # >10 % Thai letters
    # ... English with a Thai word or name in it stays English.
    ("Thank you so much, the som tum at the Siam branch was amazing, khob khun ka", "en"),
    ("Great service from the staff at สยาม today, thank you very much!", "en"),
    ("Where is my order? It was supposed to arrive yesterday", "en"),
    ("lol 555 this is so good", "en"),
])
def test_detect_language_on_mixed_text(text, language):
    assert detect_language(text) == language


def test_question_cues():
    from samphan.sentiment.text import question_cues

    x = question_cues([normalise(t) for t in ("มีสาขาไหนบ้าง", "ใช้ดีมั้ยคะ", "โอเค", "ok?")]).toarray()
    assert x.tolist() == [[1, 0], [1, 0], [0, 0], [0, 1]]
    assert question_cues([]).shape == (0, 2)
