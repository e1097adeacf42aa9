"""Word and phrase lists of the brand-voice guard, besides the two profanity lists it loads.

Profanity comes from maintained lists (``wordlists.py``): PyThaiNLP's Thai list and
better-profanity's English list. What is here is curated for customer service, where the
question is not "is this obscene" but "would a brand say this to a customer":

- dismissive or rude phrasing, each with the polite wording the suggested rewrite uses
  ("" = drop the phrase);
- Thai polite particles, and how to make a sentence end with one;
- words of the profanity lists that are ordinary words in a shop's replies (exceptions);
- acronyms that are not shouting.

Phrases are matched on word tokens (PyThaiNLP's newmm for Thai), never on substrings:
"ไม่รู้" does not match inside "ไม่รู้สึก" (do not feel), "บ้า" not inside "บ้าน" (house).
"""

from __future__ import annotations

# --- rude or dismissive phrasing ------------------------------------------------------------
# (phrase, polite replacement). Longer phrases win over shorter ones that overlap them.

DISMISSIVE_TH: list[tuple[str, str]] = [
    # "I told you already"
    ("ก็บอกแล้วไง", "ขออนุญาตทบทวนอีกครั้ง"),
    ("บอกแล้วไง", "ขออนุญาตทบทวนอีกครั้ง"),
    ("ก็บอกแล้ว", "ขออนุญาตทบทวนอีกครั้ง"),
    ("บอกไปแล้ว", "ขออนุญาตแจ้งอีกครั้ง"),
    ("พูดไปแล้ว", "ขออนุญาตแจ้งอีกครั้ง"),
    # "can't you read?"
    ("อ่านไม่ออกเหรอ", ""),
    ("อ่านไม่ออกหรอ", ""),
    ("อ่านไม่ออกหรือไง", ""),
    ("ไม่อ่านเหรอ", ""),
    ("ไม่อ่านหรอ", ""),
    ("ไม่อ่านหรือไง", ""),
    ("ทำไมไม่อ่าน", ""),
    ("อ่านดีๆ", "รบกวนตรวจสอบรายละเอียดอีกครั้ง"),
    ("อ่านให้ดี", "รบกวนตรวจสอบรายละเอียดอีกครั้ง"),
    ("ไม่เห็นเหรอ", ""),
    ("ไม่เห็นหรอ", ""),
    # "don't know" — ไม่ทราบ is the register a brand uses
    ("ไม่รู้เหมือนกัน", "ขออนุญาตตรวจสอบข้อมูลให้ก่อน"),
    ("ไม่รู้", "ไม่ทราบ"),
    # "not our business"
    ("ไม่ใช่เรื่องของเรา", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไม่ใช่เรื่องของผม", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไม่ใช่เรื่องของฉัน", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไม่ใช่หน้าที่ของเรา", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไม่ใช่หน้าที่", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไม่เกี่ยวกับเรา", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไปถามที่อื่น", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("ไปถามคนอื่น", "ขออนุญาตประสานงานกับฝ่ายที่เกี่ยวข้องให้"),
    ("เรื่องของคุณ", ""),
    # "calm down", "stop asking", "so fussy"
    ("ใจเย็นๆ", "ขออภัยในความไม่สะดวก"),
    ("ใจเย็นหน่อย", "ขออภัยในความไม่สะดวก"),
    ("ถามอยู่ได้", ""),
    ("ถามบ่อยจัง", ""),
    ("ถามอะไรนักหนา", ""),
    ("เรื่องมาก", ""),
    ("ช่างมัน", ""),
    ("ช่างเถอะ", ""),
    ("รอไปก่อน", "รบกวนรอสักครู่"),
    ("รอไปเถอะ", "รบกวนรอสักครู่"),
    ("จะเอาอะไรอีก", "มีอะไรให้ช่วยเพิ่มเติมไหม"),
    ("ไม่ได้ก็คือไม่ได้", "ขออภัยที่ไม่สามารถดำเนินการได้"),
    # insults that are not in the profanity list
    ("โง่", ""),
    ("ปัญญาอ่อน", ""),
    ("งี่เง่า", ""),
    ("ไร้สาระ", ""),
]

DISMISSIVE_EN: list[tuple[str, str]] = [
    ("not my problem", "let me see how I can help"),
    ("not our problem", "let us see how we can help"),
    ("that's not my job", "let me find the right person to help"),
    ("not my job", "let me find the right person to help"),
    ("calm down", "I understand how frustrating this is"),
    ("chill out", "I understand how frustrating this is"),
    ("as i already said", "to recap"),
    ("as i already told you", "to recap"),
    ("as i said", "to recap"),
    ("like i said", "to recap"),
    ("i already told you", "to recap"),
    ("as previously stated", "to recap"),
    ("per my last message", "to recap"),
    ("per my last email", "to recap"),
    ("did you even read", ""),
    ("can't you read", ""),
    ("cant you read", ""),
    ("i don't know", "let me check and get back to you"),
    ("i dont know", "let me check and get back to you"),
    ("no idea", "let me check and get back to you"),
    ("dunno", "let me check and get back to you"),
    ("deal with it", ""),
    ("your fault", ""),
    ("nothing i can do", "let me see what I can do"),
    ("i can't help you", "let me find someone who can help"),
    ("take it or leave it", ""),
    ("for the last time", ""),
    ("you people", ""),
    ("idiot", ""),  # "stupid" is in the English profanity list
]

# --- Thai polite particles --------------------------------------------------------------------
# A Thai sentence is polite when its last chunk (text between spaces) holds one of these
# tokens; the particle may be followed by how the customer is addressed
# ("ขอบคุณค่ะคุณวิภา"), which is why "holds" and not "ends with".
POLITE_PARTICLES = frozenset({
    "ครับ", "ครับผม", "คับ", "คร้าบ", "ค่ะ", "คะ", "ค๊ะ", "นะคะ", "นะครับ", "จ้ะ", "จ้า", "จ๊ะ",
})
# A chunk ending in one of these is polite even when the tokenizer cuts the particle off oddly
# ("วันไหนคะ" → วัน|ไห|นคะ). No Thai word ends in them, unlike คับ (บังคับ) or ค่า (มูลค่า).
PARTICLE_SUFFIXES = ("ครับ", "ค่ะ", "คะ", "ค๊ะ", "จ้ะ", "จ๊ะ")
# Also ordinary words (ค่า a fee, ขา a leg): polite only as the last word of the sentence.
WEAK_PARTICLES = frozenset({"ค่า", "ค้า", "ขา", "ฮะ"})
# Thai words that may follow a polite sentence on the same line without a particle of their
# own: three with a number in them (a price, a time: "มีค่ะ ถุงละ 350 บาท"), else two ("มีค่ะ สีแดง").
SHORT_TAIL = 3
# Sentence-final words that take the particle after them rather than being replaced.
SOFTENERS = frozenset({"นะ", "น่ะ", "นะจ๊ะ"})
# The particle choices a workspace or an agent can set (the "feminine" one has a question form).
PARTICLE_CHOICES = ("ค่ะ", "ครับ")
QUESTION_FORM = {"ค่ะ": "คะ", "ครับ": "ครับ"}
# Words that make a Thai sentence a question (ค่ะ becomes คะ after them).
THAI_QUESTION_WORDS = frozenset({
    "ไหม", "มั้ย", "มั๊ย", "หรือเปล่า", "รึเปล่า", "หรือยัง", "รึยัง", "อะไร", "ยังไง", "อย่างไร",
    "ที่ไหน", "เมื่อไร", "เมื่อไหร่", "ทำไม", "กี่", "เท่าไร", "เท่าไหร่", "ใด", "ไหน", "หรือ", "เหรอ",
})

# --- exceptions to the profanity lists -----------------------------------------------------------
# PyThaiNLP's list has ordinary words that are also insults: ตาย (die: ตายแล้ว "oh no"),
# สัตว์ (animal: อาหารสัตว์ "pet food"), เวร (a duty shift: อยู่เวร). Alone they are not flagged;
# after ไอ้ / อี (the insulting form, as in the list's own ไอ้ตาย, ไอ้สัตว์, ไอ้เวร) they are.
THAI_AMBIGUOUS = frozenset({"ตาย", "สัตว์", "เวร"})
THAI_INSULT_PREFIXES = frozenset({"ไอ้", "อี"})

# better-profanity's list is made for game chat and censors words a shop writes in earnest
# (a pot, rum, a screw, weed killer, chicken breasts, virgin coconut oil, a nude lipstick shade,
# take orally, facial treatment, the Wang family) and identity words. These are not flagged.
ENGLISH_ORDINARY = frozenset({
    "breasts", "crotch", "drunk", "enlargement", "facial", "fat", "gay", "god", "hemp", "kill",
    "len", "lesbians", "loin", "loins", "lube", "maxi", "murder", "naked", "nude", "omg", "lmao",
    "oral", "orally", "organ", "ovary", "ovum", "ovums", "paddy", "pastie", "pasty", "pawn", "pee",
    "pms", "poop", "pot", "potty", "queer", "racy", "rectal", "revue", "rum", "sandbar", "screw",
    "seaman", "seamen", "sex", "sexual", "slope", "sniper", "steamy", "strip", "stroke", "tampon",
    "thrust", "undies", "unwed", "urinal", "urine", "uterus", "valium", "viagra", "virgin", "vodka",
    "vomit", "wang", "weed", "whiz", "womb", "xx", "menses", "menstruate", "menstruation", "dummy",
    "herpes", "hiv", "ugly",
})

# --- shouting --------------------------------------------------------------------------------------
# Upper-case words that are names, not shouting.
ACRONYMS = frozenset({
    "OK", "LINE", "OA", "ID", "QR", "COD", "EMS", "ATM", "VAT", "SKU", "PDPA", "FAQ", "URL", "PIN",
    "OTP", "SMS", "PM", "AM", "BTS", "MRT", "TV", "USB", "LED", "XL", "XXL", "XS", "ASAP", "PS",
    "THB", "USD", "CEO", "HR", "IT", "API", "PDF", "ML", "KG", "CM", "GPS", "DHL", "UPS", "FB", "IG",
})
# Three or more capitalised words in a row, or a message of at least this many Latin words that is
# mostly capitals, is shouting; a single upper-case word is emphasis, not shouting.
SHOUT_RUN = 3
SHOUT_MIN_WORDS = 4
SHOUT_SHARE = 0.6
