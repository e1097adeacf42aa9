"""The guard's rules on plain text: each rule flags what it should, and not what it should not.

Thai has no spaces between words, so the negative cases include words that contain a flagged
word as a substring (บ้าน contains บ้า, ไม่รู้สึก contains ไม่รู้, กูเกิล contains กู).
"""

from __future__ import annotations

import pytest

from samphan.guard.checker import BannedPhraseRule, Policy, check_text


def flagged(text, rule, policy=None):
    return [f.text for f in check_text(text, policy).findings if f.rule == rule]


# --- profanity -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "word"), [
    ("มึงจะเอาอะไรครับ", "มึง"),
    ("เหี้ยจริงๆ ครับ", "เหี้ย"),
    ("เหี้ยยยย ส่งช้าครับ", "เหี้ย"),
    ("ไอ้บ้า ครับ", "ไอ้บ้า"),
    ("ไอ้ตาย ครับ", "ไอ้ตาย"),        # an ordinary word as an insult, after ไอ้
    ("สัสครับ", "สัส"),                # not in PyThaiNLP's general dictionary: the guard adds it
    ("That's bullshit.", "bullshit"),
    ("What the fuck", "fuck"),
    ("What the f*ck", "f*ck"),         # censored spelling
    ("sh!t happens", "sh!t"),          # l33t
    ("you are a b1tch", "b1tch"),
    ("son of a bitch", "bitch"),
])
def test_profanity_positive(text, word):
    assert word in flagged(text, "profanity")


@pytest.mark.parametrize("text", [
    "บ้านเลขที่ 5 ค่ะ",                       # บ้าน (house) contains บ้า
    "ค้นหาในกูเกิลได้เลยครับ",                 # กูเกิล (Google) contains กู
    "ราคาตายตัวค่ะ",                          # ตายตัว (fixed) contains ตาย
    "ตายแล้ว ขอโทษนะคะ",                      # ตาย alone: an exclamation, not an insult
    "อาหารสัตว์มีจำหน่ายค่ะ",                   # สัตว์ (animal) alone
    "สัตวแพทย์ประจำร้านค่ะ",
    "พนักงานเข้าเวรพรุ่งนี้ค่ะ",                  # เวร: a duty shift
    "หีบห่อสวยงามค่ะ",
    "We sell chicken breasts, rum and a pot of tea.",   # better-profanity words a shop uses
    "Take it orally after meals.",
    "Class is at 9, see you there.",          # ass inside a word
    "Scunthorpe store is open.",               # cunt inside a word
    "Thank you!",
])
def test_profanity_negative(text):
    assert flagged(text, "profanity") == []


# --- rude or dismissive ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "phrase"), [
    ("ก็บอกแล้วไง ครับ", "ก็บอกแล้วไง"),
    ("อ่านไม่ออกเหรอคะ", "อ่านไม่ออกเหรอ"),
    ("ไม่รู้ครับ", "ไม่รู้"),
    ("ไม่รู้เหมือนกันค่ะ", "ไม่รู้เหมือนกัน"),   # the longer phrase wins
    ("ใจเย็น ๆ นะคะ", "ใจเย็น ๆ"),            # a space before ๆ does not hide it
    ("ไม่ใช่เรื่องของเราค่ะ", "ไม่ใช่เรื่องของเรา"),
    ("That is not my problem.", "not my problem"),
    ("Calm down, please.", "Calm down"),
    ("As I already said, it ships Monday.", "As I already said"),
    ("I don’t know.", "I don’t know"),        # a typographic apostrophe
])
def test_rude_positive(text, phrase):
    assert flagged(text, "rude") == [phrase]


@pytest.mark.parametrize("text", [
    "หวังว่าคุณจะไม่รู้สึกไม่สะดวกนะคะ",         # ไม่รู้สึก (do not feel) contains ไม่รู้
    "ยินดีที่ได้รู้จักค่ะ",
    "ขอบคุณที่บอกเรานะคะ",
    "ใจเย็นมากเลยค่ะ ขอบคุณนะคะ",             # ใจเย็น without ๆ: patient, a compliment
    "Our problem-solving team will call you.",
    "The calm downstairs lounge is open.",     # words, not a substring: "calm downstairs"
    "I know the answer.",
])
def test_rude_negative(text):
    assert flagged(text, "rude") == []


# --- Thai polite particles ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "ส่งพรุ่งนี้นะ",
    "ได้",                                     # a lone "ได้" is the curt tone the rule is for
    "ขอบคุณที่ติดต่อมานะคะ ทางร้านจะจัดส่งพรุ่งนี้",   # a whole sentence after the polite one
    "ราคา 120 บาท",
    "ใจเย็นมากค่ะ เดี๋ยวส่งให้",                   # a new sentence after the polite one
    "สะดวกรับวันไหน",
    "สวัสดีค่ะ\nร้านเปิดแปดโมงถึงหกโมงเย็น\nขอบคุณค่ะ",  # a middle sentence without one
])
def test_particle_positive(text):
    assert flagged(text, "particle")


@pytest.mark.parametrize("text", [
    "ได้ค่ะ รับกี่แก้วคะ",
    "รอสักครู่นะคะ",
    "ขอบคุณครับผม",
    "สวัสดีค่ะคุณวิภา",                         # the particle, then how the customer is addressed
    "สะดวกรับวันไหนคะ",                         # tokenised วัน|ไห|นคะ: the suffix still counts
    "ได้เลยจ้า",
    "ราคา 120 บาทค่ะ 🙏",                       # emoji after the particle
    "มีค่ะ ถุงละ 350 บาท",                        # a short tail (a price) after a polite sentence
    "มีค่ะ สีแดง",
    "สวัสดีค่ะคุณวิภา (ใจดี) — Somchai, Alpha Coffee",   # an aside and a signature after it
    "เมนูแนะนำ\n- ลาเต้เย็น\n- อเมริกาโน่\nขอบคุณค่ะ",   # a heading and a list
    "ราคา:\nขอบคุณค่ะ",
    "Thank you for your order!",                # English: the rule is for Thai
    "👍",
    "ค่ะ",
])
def test_particle_negative(text):
    assert flagged(text, "particle") == []


# --- shouting -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "spans"), [
    ("PLEASE CHECK YOUR ORDER", ["PLEASE CHECK YOUR ORDER"]),
    ("We have it. CALL US NOW", ["CALL US NOW"]),
    ("PLEASE WAIT, we ARE BUSY", ["PLEASE WAIT", "ARE BUSY"]),   # mostly capitals: runs of two count
    ("ส่งแล้วค่ะ!!!", ["!!!"]),
    ("What?!?!", ["?!?!"]),
])
def test_shouting_positive(text, spans):
    assert flagged(text, "shouting") == spans


@pytest.mark.parametrize("text", [
    "Your LINE OA ID is ready, pay by COD or at an ATM.",   # acronyms
    "Please READ THE manual first",           # two capitalised words in a calm message: emphasis
    "Thank you!!",                            # two marks: enthusiasm, not shouting
    "ขอบคุณค่ะ!",
    "Is it ready???",                         # no "!": a question, not shouting
    "I am OK",
])
def test_shouting_negative(text):
    assert flagged(text, "shouting") == []


# --- banned phrases ---------------------------------------------------------------------------------

def test_banned_phrases_on_word_boundaries():
    policy = Policy(banned=(BannedPhraseRule("สตาร์บัคส์", "ร้านอื่น", "competitor"),
                            BannedPhraseRule("ฟรี"), BannedPhraseRule("cheap", "affordable")))
    assert flagged("ราคาถูกกว่าสตาร์บัคส์อีกค่ะ", "banned", policy) == ["สตาร์บัคส์"]
    assert flagged("ส่งฟรีค่ะ", "banned", policy) == ["ฟรี"]
    assert flagged("เราฟรีแลนซ์ค่ะ", "banned", policy) == []      # ฟรีแลนซ์ (freelance) contains ฟรี
    assert flagged("This is CHEAP.", "banned", policy) == ["CHEAP"]
    assert flagged("Cheapest in town", "banned", policy) == []
    finding = next(f for f in check_text("ถูกกว่าสตาร์บัคส์ค่ะ", policy).findings if f.rule == "banned")
    assert finding.reason("en").endswith(": competitor")


# --- findings and the rewrite ----------------------------------------------------------------------

def test_findings_have_spans_and_reasons_in_both_languages():
    text = "ก็บอกแล้วไง อ่านไม่ออกเหรอ"
    result = check_text(text)
    assert not result.ok
    assert result.rules == ["rude", "particle"]
    for finding in result.findings:
        data = finding.as_json()
        assert text[data["span"]["start"]:data["span"]["end"]] == data["text"]
        assert data["reasons"]["en"] and data["reasons"]["th"] and data["reasons"]["en"] != data["reasons"]["th"]


@pytest.mark.parametrize(("text", "particle", "suggestion"), [
    ("ก็บอกแล้วไง ส่งพรุ่งนี้", "ค่ะ", "ขออนุญาตทบทวนอีกครั้ง ส่งพรุ่งนี้ค่ะ"),
    ("ส่งพรุ่งนี้นะ", "ค่ะ", "ส่งพรุ่งนี้นะคะ"),
    ("ส่งพรุ่งนี้นะ", "ครับ", "ส่งพรุ่งนี้นะครับ"),
    ("สะดวกรับวันไหน", "ค่ะ", "สะดวกรับวันไหนคะ"),       # a question takes คะ
    ("ไม่รู้", "ครับ", "ไม่ทราบครับ"),
    ("ใจเย็น ๆ นะคะ เดี๋ยวส่งให้", "ค่ะ", "ขออภัยในความไม่สะดวกนะคะ เดี๋ยวส่งให้ค่ะ"),
    ("NOT MY PROBLEM!!!", "ค่ะ", "Let me see how I can help!"),
    ("PLEASE CHECK YOUR ORDER", "ค่ะ", "Please check your order"),
    ("Calm down, it ships tomorrow.", "ค่ะ", "I understand how frustrating this is, it ships tomorrow."),
    ("มึงรอไปก่อน", "ครับ", "รบกวนรอสักครู่ครับ"),
])
def test_rewrite(text, particle, suggestion):
    result = check_text(text, Policy(particle=particle))
    assert result.suggestion == suggestion
    assert check_text(result.suggestion, Policy(particle=particle)).ok  # the suggestion passes


def test_nothing_left_to_suggest():
    assert check_text("ไอ้บ้า").suggestion is None


def test_clean_text_has_no_suggestion():
    result = check_text("ได้ค่ะ รับกี่แก้วคะ")
    assert result.ok and result.suggestion is None and result.as_json()["findings"] == []
