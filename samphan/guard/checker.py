"""The brand-voice rules and the polite rewrite, on plain text (no database).

``check_text(text, policy)`` returns a ``GuardResult``: the findings (rule, span, matched text,
reason in English and Thai, replacement) and a suggested rewrite. ``services.check`` builds the
``Policy`` of a workspace and an agent (banned phrases, preferred particle) and calls it.

Rules:
- ``profanity``: PyThaiNLP's Thai list, better-profanity's English list (with l33t spellings);
- ``rude``: dismissive or rude phrasing (``lexicon.DISMISSIVE_TH`` / ``DISMISSIVE_EN``);
- ``banned``: phrases the workspace bans;
- ``shouting``: three or more upper-case words in a row (or two in a message that is mostly
  capitals), and runs of three or more "!" (with "?");
- ``particle``: a Thai line whose last sentence has no polite particle (ครับ, ค่ะ, คะ, นะคะ …).

Matching never cuts a word: Thai phrases must start and end on newmm token boundaries (spaces
ignored, so "ใจเย็น ๆ" matches "ใจเย็นๆ"), English phrases must equal a run of whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from samphan.guard import lexicon
from samphan.guard.wordlists import english_profanity, thai_profanity_unambiguous, thai_tokens

RULES = ("profanity", "rude", "banned", "shouting", "particle")
# When two findings overlap, the rewrite uses the first rule in this order.
_PRIORITY = {"banned": 0, "profanity": 1, "rude": 2, "shouting": 3, "particle": 4}

REASONS = {
    "profanity": _("“%(text)s” is profanity. Customers should never read it from the brand."),
    "rude": _("“%(text)s” sounds rude or dismissive to a customer."),
    "banned": _("“%(text)s” is a phrase this workspace does not use."),
    "banned_reason": _("“%(text)s” is a phrase this workspace does not use: %(reason)s"),
    "shouting_caps": _("“%(text)s” is in capitals, which reads as shouting."),
    "shouting_marks": _("“%(text)s” reads as shouting; one mark is enough."),
    "particle": _("This Thai sentence does not end politely: add a particle such as ครับ or ค่ะ."),
}

_THAI_LETTER = re.compile("[\u0e01-\u0e4e]")
_WHITESPACE = re.compile(r"\s")
# Latin words, allowing l33t characters inside (sh!t, f*ck, $hit) and apostrophes (don't).
_LATIN_WORD = re.compile(r"[A-Za-z$@][A-Za-z0-9@$*!']*[A-Za-z0-9]|[A-Za-z]")
_DIGIT = re.compile(r"[0-9๐-๙]")
_MARKS = re.compile(r"[!?！？]{3,}")
_BULLET = re.compile(r"^\s*(?:[-*•·▪–]|\d{1,3}[.)])\s")
_DELEET = str.maketrans({"@": "a", "4": "a", "1": "i", "!": "i", "0": "o", "3": "e", "$": "s",
                         "5": "s", "7": "t"})
_ASIDE = re.compile(r"\([^()\n]*\)|\[[^\]\n]*\]|\"[^\"\n]*\"|“[^”\n]*”|「[^」\n]*」")
_PARTICLE_AFTER_SPACE = re.compile(r"(?<=[\u0e01-\u0e4e])[ \t]+(?=(?:นะคะ|นะครับ|ค่ะ|คะ|ครับ)(?:\s|$))")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*)$")


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int
    end: int
    text: str
    replacement: str | None = None  # what the rewrite puts there; None: the rule rewrites itself
    reason_key: str = ""
    reason_extra: str = ""

    def reason(self, language: str | None = None) -> str:
        key = self.reason_key or self.rule
        params = {"text": self.text, "reason": self.reason_extra}
        if language is None:
            return str(REASONS[key]) % params
        with translation.override(language):
            return str(REASONS[key]) % params

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "span": {"start": self.start, "end": self.end}, "text": self.text,
                "reason": self.reason(), "reasons": {"en": self.reason("en"), "th": self.reason("th")},
                "replacement": self.replacement}


@dataclass
class GuardResult:
    text: str
    findings: list[Finding] = field(default_factory=list)
    suggestion: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings}, key=RULES.index)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "rules": self.rules, "findings": [f.as_json() for f in self.findings],
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class BannedPhraseRule:
    phrase: str
    replacement: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Policy:
    """What one check applies besides the built-in rules."""

    banned: tuple[BannedPhraseRule, ...] = ()
    particle: str = "ค่ะ"  # added by the rewrite: the agent's preference, else the workspace's


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segmented:
    """A text's word boundaries and its lower-cased, whitespace-free projection."""

    text: str
    tokens: tuple[tuple[int, int], ...]  # newmm tokens (start, end), whitespace left out
    starts: frozenset[int]
    ends: frozenset[int]
    projection: str
    origin: tuple[int, ...]  # projection index -> text index


def segment(text: str) -> Segmented:
    pieces = thai_tokens(text)
    spans: list[tuple[int, int]] = []
    position = 0
    for piece in pieces:
        found = position if text.startswith(piece, position) else text.find(piece, position)
        if found < 0:  # the tokenizer changed the text (it does not today): no boundary here
            continue
        position = found + len(piece)
        if piece.strip():
            spans.append((found, position))
    kept = [(i, ch) for i, ch in enumerate(text) if not _WHITESPACE.match(ch)]
    return Segmented(text=text, tokens=tuple(spans), starts=frozenset(s for s, _ in spans),
                     ends=frozenset(e for _, e in spans),
                     projection="".join(ch for _, ch in kept).lower(), origin=tuple(i for i, _ in kept))


def _compact(phrase: str) -> str:
    return _WHITESPACE.sub("", phrase).lower()


def find_on_boundaries(seg: Segmented, phrase: str) -> list[tuple[int, int]]:
    """Where ``phrase`` occurs starting and ending on token boundaries (spaces ignored)."""
    needle = _compact(phrase)
    if not needle:
        return []
    found = []
    i = seg.projection.find(needle)
    while i >= 0:
        start, end = seg.origin[i], seg.origin[i + len(needle) - 1] + 1
        if start in seg.starts and end in seg.ends:
            found.append((start, end))
        i = seg.projection.find(needle, i + 1)
    return found


def latin_words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _LATIN_WORD.finditer(text.replace("’", "'"))]


def _word_sequence_matches(words: Sequence[tuple[int, int, str]], phrase: str) -> list[tuple[int, int]]:
    target = [w.lower() for w in phrase.replace("’", "'").split()]
    if not target:
        return []
    lowered = [w.lower().strip("'") for _, _, w in words]
    n = len(target)
    return [(words[i][0], words[i + n - 1][1]) for i in range(len(words) - n + 1) if lowered[i:i + n] == target]


def find_phrase(seg: Segmented, words: Sequence[tuple[int, int, str]], phrase: str) -> list[tuple[int, int]]:
    """Thai (or mixed) phrases on token boundaries; English ones as a run of whole words."""
    if _THAI_LETTER.search(phrase):
        return find_on_boundaries(seg, phrase)
    return _word_sequence_matches(words, phrase)


# --- rules -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _english_profanity_index() -> tuple[frozenset[str], re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
    """Plain words (matched on word tokens), entries with spaces or punctuation (one regex), and
    entries with a * wildcard of the list itself (e.g. masterbat*)."""
    plain, special, wildcard = set(), [], []
    for entry in english_profanity():
        if entry.endswith("*") and entry[:-1].isalpha():
            wildcard.append(re.compile(re.escape(entry[:-1]) + r"[a-z]*"))
        elif re.fullmatch(r"[a-z0-9]+", entry):
            plain.add(entry)
        else:
            special.append(entry)
    pattern = None
    if special:
        alternatives = sorted((re.escape(e).replace(r"\ ", r"\s+") for e in special), key=len, reverse=True)
        pattern = re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)
    return frozenset(plain), pattern, tuple(wildcard)


def _profane_english_word(word: str) -> bool:
    plain, _, wildcard = _english_profanity_index()
    lowered = word.lower()
    if lowered in lexicon.ENGLISH_ORDINARY:
        return False
    candidates = {lowered, lowered.translate(_DELEET), lowered.replace("1", "l").translate(_DELEET)}
    if "*" in lowered:  # a censored spelling: f*ck, sh*t
        pattern = re.compile(re.escape(lowered.translate(_DELEET)).replace(r"\*", "[a-z]"))
        return any(pattern.fullmatch(w) for w in plain if len(w) == len(lowered))
    return any(c in plain or any(p.fullmatch(c) for p in wildcard) for c in candidates)


def profanity_findings(text: str, seg: Segmented, words: Sequence[tuple[int, int, str]]) -> list[Finding]:
    found: list[Finding] = []
    for word in thai_profanity_unambiguous():
        found += [Finding("profanity", s, e, text[s:e], "") for s, e in find_on_boundaries(seg, word)]
    for word in lexicon.THAI_AMBIGUOUS:
        for prefix in lexicon.THAI_INSULT_PREFIXES:
            found += [Finding("profanity", s, e, text[s:e], "") for s, e in find_on_boundaries(seg, prefix + word)]
    for start, end, word in words:
        if _profane_english_word(word):
            found.append(Finding("profanity", start, end, text[start:end], ""))
    _, special, _ = _english_profanity_index()
    if special is not None:
        found += [Finding("profanity", m.start(), m.end(), m.group(), "") for m in special.finditer(text)]
    return found


@lru_cache(maxsize=1)
def _dismissive() -> tuple[tuple[str, str], ...]:
    # Longest first, so that "ไม่รู้เหมือนกัน" wins over "ไม่รู้" where both match.
    return tuple(sorted([*lexicon.DISMISSIVE_TH, *lexicon.DISMISSIVE_EN], key=lambda p: -len(p[0])))


def rude_findings(text: str, seg: Segmented, words: Sequence[tuple[int, int, str]]) -> list[Finding]:
    found = []
    for phrase, replacement in _dismissive():
        for start, end in find_phrase(seg, words, phrase):
            found.append(Finding("rude", start, end, text[start:end], _match_case(text[start:end], replacement)))
    return found


def banned_findings(text: str, seg: Segmented, words: Sequence[tuple[int, int, str]],
                    banned: Iterable[BannedPhraseRule]) -> list[Finding]:
    found = []
    for rule in banned:
        for start, end in find_phrase(seg, words, rule.phrase):
            found.append(Finding("banned", start, end, text[start:end], _match_case(text[start:end], rule.replacement),
                                 reason_key="banned_reason" if rule.reason else "banned", reason_extra=rule.reason))
    return found


def _is_shouted(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and word.isupper() and word.strip("'") not in lexicon.ACRONYMS


def shouting_findings(text: str, words: Sequence[tuple[int, int, str]]) -> list[Finding]:
    found = []
    alpha = [(s, e, w) for s, e, w in words if sum(c.isalpha() for c in w) >= 2]
    mostly_caps = (len(alpha) >= lexicon.SHOUT_MIN_WORDS
                   and sum(_is_shouted(w) for _, _, w in alpha) >= lexicon.SHOUT_SHARE * len(alpha))
    shortest = 2 if mostly_caps else lexicon.SHOUT_RUN
    run: list[tuple[int, int, str]] = []
    for item in [*alpha, None]:
        if item is not None and _is_shouted(item[2]):
            run.append(item)
            continue
        if len(run) >= shortest:
            start, end = run[0][0], run[-1][1]
            found.append(Finding("shouting", start, end, text[start:end], _calm_caps(text, start, end),
                                 reason_key="shouting_caps"))
        run = []
    for m in _MARKS.finditer(text):
        if "!" in m.group() or "！" in m.group():
            found.append(Finding("shouting", m.start(), m.end(), m.group(), "?" if "?" in m.group() else "!",
                                 reason_key="shouting_marks"))
    return found


def _calm_caps(text: str, start: int, end: int) -> str:
    calm = text[start:end].lower()
    calm = re.sub(r"\bi\b", "I", calm)
    if _SENTENCE_START.search(text[:start]):
        calm = calm[:1].upper() + calm[1:]
    return calm


def _match_case(original: str, replacement: str) -> str:
    if replacement and original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


# --- Thai polite particles ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    chunks: tuple[tuple[tuple[int, int], ...], ...]  # Thai tokens of each chunk between spaces
    thai_token_count: int  # in the whole line, asides included
    question: bool

    @property
    def thai_tokens(self) -> tuple[tuple[int, int], ...]:
        """The tokens of the line's last sentence (its last chunk with Thai in it)."""
        return self.chunks[-1]


def _thai_lines(text: str, seg: Segmented) -> list[_Line]:
    lines = []
    position = 0
    for raw in text.split("\n"):
        start, end = position, position + len(raw)
        position = end + 1
        if not _THAI_LETTER.search(raw) or _BULLET.match(raw) or raw.rstrip().endswith((":", "：")):
            continue
        line_tokens = [(s, e) for s, e in seg.tokens if s >= start and e <= end and _THAI_LETTER.search(text[s:e])]
        # Names and asides in brackets or quotes ("(คุณวิภา)") are not where a sentence ends.
        aside = [(m.start() + start, m.end() + start) for m in _ASIDE.finditer(raw)]
        sentence_tokens = [(s, e) for s, e in line_tokens if not any(a <= s < b for a, b in aside)]
        if not sentence_tokens:
            continue
        # Chunks between spaces: Thai writes a space between sentences.
        chunks: list[list[tuple[int, int]]] = [[sentence_tokens[0]]]
        for previous, token in pairwise(sentence_tokens):
            if _WHITESPACE.search(text[previous[1]:token[0]]):
                chunks.append([])
            chunks[-1].append(token)
        words = {text[s:e] for s, e in chunks[-1]}
        question = "?" in text[start:end] or "？" in text[start:end] or bool(words & lexicon.THAI_QUESTION_WORDS)
        lines.append(_Line(start, end, tuple(tuple(c) for c in chunks), len(line_tokens), question))
    return lines


def _chunk_polite(text: str, chunk: Sequence[tuple[int, int]]) -> bool:
    words = [text[s:e] for s, e in chunk]
    return (any(w in lexicon.POLITE_PARTICLES for w in words) or words[-1] in lexicon.WEAK_PARTICLES
            or "".join(words).endswith(lexicon.PARTICLE_SUFFIXES))


def _polite(text: str, line: _Line) -> bool:
    """The last sentence holds a particle, or follows one that does and is only a short tail:
    "มีค่ะ ถุงละ 350 บาท" (a price after a polite answer) and "มีค่ะ สีแดง" pass; "ขอบคุณนะคะ
    เดี๋ยวส่งให้" (a new sentence) does not."""
    tail = 0
    for index in range(len(line.chunks) - 1, -1, -1):
        chunk = line.chunks[index]
        if _chunk_polite(text, chunk):
            if not tail:
                return True
            after = text[line.chunks[index + 1][0][0]:line.end]
            return tail <= (lexicon.SHORT_TAIL if _DIGIT.search(after) else lexicon.SHORT_TAIL - 1)
        tail += len(chunk)
    return False


def _lines_needing_particle(text: str, seg: Segmented) -> list[_Line]:
    lines = _thai_lines(text, seg)
    needing = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        # In a reply of several lines, a line of one or two Thai words is a heading, a label or
        # a product name, not a sentence. The last line is always a sentence: a lone "ได้" or
        # "โอเค" to a customer is exactly the curt tone this rule is for.
        if not last and line.thai_token_count < 3:
            continue
        if not _polite(text, line):
            needing.append(line)
    return needing


def particle_findings(text: str, seg: Segmented) -> list[Finding]:
    findings = []
    for line in _lines_needing_particle(text, seg):
        start, end = line.thai_tokens[0][0], line.thai_tokens[-1][1]
        findings.append(Finding("particle", start, end, text[start:end], None))
    return findings


def _add_particles(text: str, particle: str) -> str:
    seg = segment(text)
    for line in reversed(_lines_needing_particle(text, seg)):
        s, e = line.thai_tokens[-1]
        last = text[s:e]
        word = lexicon.QUESTION_FORM.get(particle, particle) if line.question else particle
        if last in lexicon.SOFTENERS:  # ส่งพรุ่งนี้นะ → ส่งพรุ่งนี้นะคะ / นะครับ
            word = "คะ" if particle == "ค่ะ" else particle
        text = text[:e] + word + text[e:]
    return text


# --- the check and the rewrite ---------------------------------------------------------------------


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the higher-priority (then longer, then earlier) finding where two overlap."""
    ordered = sorted(findings, key=lambda f: (_PRIORITY[f.rule], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ordered:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, _PRIORITY[f.rule]))


def _tidy(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r"\s+([,.!?;:])", r"\1", line)
        line = _PARTICLE_AFTER_SPACE.sub("", line)  # a replacement followed by " นะคะ"
        line = re.sub(r"^[\s,;:.!?-]+", "", line)
        line = re.sub(r"([,;:])(?=[,;:.!?]|$)", "", line.rstrip())
        lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def rewrite(text: str, findings: list[Finding], policy: Policy) -> str | None:
    """The polite version: replacements applied right to left, then the particles added."""
    out = text
    for f in sorted(_without_overlaps([f for f in findings if f.replacement is not None]),
                    key=lambda f: f.start, reverse=True):
        out = out[:f.start] + (f.replacement or "") + out[f.end:]
    out = _tidy(out)
    if not out:
        return None
    out = _add_particles(out, policy.particle)
    return out if out != text else None


def check_text(text: str, policy: Policy | None = None) -> GuardResult:
    policy = policy or Policy()
    text = text or ""
    if not text.strip():
        return GuardResult(text=text)
    seg = segment(text)
    words = latin_words(text)
    raw = [*banned_findings(text, seg, words, policy.banned), *profanity_findings(text, seg, words),
           *rude_findings(text, seg, words), *shouting_findings(text, words), *particle_findings(text, seg)]
    # A span flagged by a stronger rule is not reported twice (a banned word that is also profane).
    findings = _without_overlaps([f for f in raw if f.rule != "particle"])
    findings += [f for f in raw if f.rule == "particle"]
    findings.sort(key=lambda f: (f.start, _PRIORITY[f.rule]))
    return GuardResult(text=text, findings=findings, suggestion=rewrite(text, findings, policy) if findings else None)
