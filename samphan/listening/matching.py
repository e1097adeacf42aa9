"""Topic rules: which topics a mention's text belongs to, in Thai and English.

A topic matches a text when one of its include terms matches and none of its exclude terms
does. A term is one of:

- ``#hashtag``: equal (case-insensitively) to a hashtag in the text; Thai hashtags work too.
- ``@handle``: equal (case-insensitively) to an @handle in the text.
- a word or phrase in Latin script (no Thai letters): case-insensitive, on word boundaries —
  not preceded or followed by a Latin letter, digit or underscore, so "Samphan" matches "Samphan's",
  "#samphan" and "ร้านsamphanนะ" but not "samphanese". Words of a phrase are separated by
  spaces or hyphens in the text ("air con" matches "Air-con").
- anything with Thai letters: a sequence of **tokens**. Thai is written without spaces, so the
  text is cut into words by PyThaiNLP's newmm in its Rust build (nlpo3), the tokenizer the
  sentiment model uses, after the same normalisation (``samphan.sentiment.text.normalise``).
  A term matches whole tokens, never part of a word:

  * "แอร์" does not match "แอร์เมส" (Hermès): newmm does not know that word and cuts it into
    แอร์|เม|ส. A match is rejected when the pieces glued to it (no space between) are
    pieces the dictionary does not know, possibly after a few one- or two-letter pieces
    ("เม", "สส"), which is how newmm chops an unknown word;
  * "ตา" (eye) does not match "ตาม" (follow), nor "กา" "กาแฟ": those are single tokens;
  * a compound token made only of dictionary words contains its words: "กาแฟ" matches
    "ร้านกาแฟ" and "กาแฟเย็น" (ร้าน, เย็น are words), but not "กาแฟxyz";
  * terms the dictionary does not know (brand names such as "แอร์เมส" or "ไดกิ้น") are added
    to the tokenizer's dictionary for the workspace's topics, so an exclude term "แอร์เมส"
    makes แอร์เมส one token. A phrase with spaces ("แอร์ ไดกิ้น") is a token sequence.

Known limit: an unknown word glued right after a term hides the term ("แอร์ไดกิ้น" does not
match "แอร์" until "ไดกิ้น" is a term of some topic, or the phrase "แอร์ไดกิ้น" is).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from samphan.core.errors import ValidationFailed
from samphan.sentiment.text import normalise

MAX_TERM_LENGTH = 100
MAX_TERMS = 200

_THAI = re.compile("[\u0e01-\u0e4e]")
_HASHTAG = re.compile(r"(?<![\w&])#([^\s#@.,!?;:()\[\]{}\"'<>/\\|]+)")
_HANDLE = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,48}[A-Za-z0-9_])?)")
_LATIN_WORD_CHAR = "0-9a-z_\u00c0-\u024f"
_SPACE_OR_HYPHEN = r"[\s\-]+"
# Tokens this short (in letters, not counting Thai vowel and tone marks) are where newmm chops
# an unknown word into known syllables; walking past them finds the unknown piece.
_SHORT = 2


@dataclass(frozen=True)
class Term:
    raw: str
    kind: str  # hashtag / handle / latin / thai
    value: str  # hashtag or handle without the sign, lower-cased; latin: the lower-cased phrase
    tokens: tuple[str, ...] = ()  # thai

    @property
    def is_word(self) -> bool:
        return self.kind == "thai" and len(self.tokens) == 1


def parse_term(raw: str) -> Term:
    """A term as the user typed it → its kind and matching form. Raises ValidationFailed."""
    if not isinstance(raw, str):
        raise ValidationFailed("a term must be text")
    text = " ".join(raw.split())
    if not text:
        raise ValidationFailed("a term is empty")
    if len(text) > MAX_TERM_LENGTH:
        raise ValidationFailed(f"{text[:30]!r}…: a term is at most {MAX_TERM_LENGTH} characters")
    if text.startswith("#"):
        tag = text[1:]
        if not tag or not _HASHTAG.fullmatch(text):
            raise ValidationFailed(f"{text!r} is not a hashtag (# followed by letters or digits, no spaces)")
        return Term(raw=text, kind="hashtag", value=tag.lower())
    if text.startswith("@"):
        if not _HANDLE.fullmatch(text):
            raise ValidationFailed(f"{text!r} is not an @handle (letters, digits, _ and .)")
        return Term(raw=text, kind="handle", value=text[1:].lower())
    clean = normalise(text)
    if not clean:
        raise ValidationFailed(f"{text!r} has nothing to match")
    if not _THAI.search(clean):
        words = [w for w in re.split(_SPACE_OR_HYPHEN, clean) if w]
        if not words:
            raise ValidationFailed(f"{text!r} has nothing to match")
        return Term(raw=text, kind="latin", value=" ".join(words))
    # Thai (or mixed): the pieces the user separated with spaces are cut into tokens each.
    tokens: list[str] = []
    for piece in clean.split(" "):
        tokens.extend(t for t in _segment(piece, None) if t.strip())
    return Term(raw=text, kind="thai", value=clean, tokens=tuple(tokens))


def validate_terms(terms: Iterable[str], *, field_name: str) -> list[str]:
    """The terms cleaned up (spaces squeezed, duplicates dropped), or ValidationFailed naming the bad one."""
    if terms is None:
        return []
    if isinstance(terms, str):
        terms = re.split(r"[\n,]", terms)
    cleaned: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(terms):
        if isinstance(raw, str) and not raw.strip():
            continue
        try:
            term = parse_term(raw)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{field_name}[{index}]: {exc.message}",
                                   details=[{"field": f"{field_name}[{index}]", "reason": exc.message}]) from None
        if term.raw.lower() not in seen:
            seen.add(term.raw.lower())
            cleaned.append(term.raw)
    if len(cleaned) > MAX_TERMS:
        raise ValidationFailed(f"{field_name}: at most {MAX_TERMS} terms")
    return cleaned


# --- the tokenizer and its dictionaries ----------------------------------------------------------

_dict_lock = threading.Lock()


@lru_cache(maxsize=1)
def _default_words() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


@lru_cache(maxsize=1)
def _default_dict_name() -> str:
    from pythainlp.tokenize import nlpo3 as engine

    engine._ensure_default_dict_loaded()
    return engine._NLPO3_DEFAULT_DICT_NAME


@lru_cache(maxsize=64)
def _dict_with(extra: frozenset[str]) -> str:
    """The nlpo3 dictionary of PyThaiNLP's words plus ``extra``, loaded once per process."""
    if not extra:
        return _default_dict_name()
    from importlib.resources import files

    import nlpo3

    digest = hashlib.sha1("\n".join(sorted(extra)).encode(), usedforsecurity=False).hexdigest()[:16]
    name = f"samphan-listening-{digest}"
    base = files("pythainlp.corpus").joinpath("words_th.txt").read_text(encoding="utf-8")
    with _dict_lock:
        fd, path = tempfile.mkstemp(prefix="samphan-dict-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(base)
                fh.write("\n" + "\n".join(sorted(extra)) + "\n")
            message, ok = nlpo3.load_dict(path, name)
        finally:
            os.unlink(path)
    if not ok and "already" not in message.lower():
        raise RuntimeError(f"could not load the tokenizer dictionary: {message}")
    return name


def _segment(text: str, extra: frozenset[str] | None) -> list[str]:
    import nlpo3

    return nlpo3.segment(text, _dict_with(extra or frozenset()))


def _letters(token: str) -> int:
    return sum(1 for c in token if not unicodedata.combining(c) and c not in "\u0e31\u0e34\u0e35\u0e36\u0e37"
               "\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e")


def _is_thai(token: str) -> bool:
    return bool(_THAI.search(token))


# --- the matcher ---------------------------------------------------------------------------------


@dataclass
class _Rules:
    include: list[Term] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)


class TopicMatcher:
    """Compiled rules of a set of topics: ``match(text)`` → the ids of the topics it belongs to."""

    def __init__(self, topics: Sequence[tuple[int, Sequence[str], Sequence[str]]]) -> None:
        self.rules: dict[int, _Rules] = {}
        for topic_id, include, exclude in topics:
            rules = _Rules([parse_term(t) for t in include if t and t.strip()],
                           [parse_term(t) for t in exclude if t and t.strip()])
            if rules.include:
                self.rules[topic_id] = rules
        terms = [t for r in self.rules.values() for t in r.include + r.exclude]
        self.words = _default_words()
        # Thai words the dictionary does not know become words of this matcher's tokenizer.
        extra = set()
        for t in terms:
            if t.kind == "thai":
                # Each piece typed without spaces that newmm cuts into unknown bits is an unknown
                # word (แอร์เมส → แอร์|เม|ส): teach it to the tokenizer as one word.
                for piece in t.value.split(" "):
                    if _is_thai(piece) and any(p.strip() and p not in self.words for p in _segment(piece, None)):
                        extra.add(piece)
        self.extra = frozenset(extra)
        self.words = self.words | self.extra
        # Re-cut the Thai terms with the extended dictionary, so terms and texts agree.
        self.thai_terms: dict[str, list[tuple[int, bool, Term]]] = defaultdict(list)
        latin: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self.hashtags: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self.handles: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        prefilter: set[str] = set()
        for topic_id, rules in self.rules.items():
            for excluding, group in ((False, rules.include), (True, rules.exclude)):
                for term in group:
                    if term.kind == "hashtag":
                        self.hashtags[term.value].append((topic_id, excluding))
                    elif term.kind == "handle":
                        self.handles[term.value].append((topic_id, excluding))
                    elif term.kind == "latin":
                        latin[term.value].append((topic_id, excluding))
                    else:
                        tokens = self._cut_term(term)
                        term = Term(raw=term.raw, kind="thai", value=term.value, tokens=tokens)
                        self.thai_terms[tokens[0]].append((topic_id, excluding, term))
                        prefilter.add(tokens[0])
        self.latin: dict[str, list[tuple[int, bool]]] = dict(latin)
        self._latin_re = None
        if latin:
            alternatives = "|".join(
                _SPACE_OR_HYPHEN.join(re.escape(w) for w in phrase.split(" "))
                for phrase in sorted(latin, key=len, reverse=True))
            self._latin_re = re.compile(f"(?<![{_LATIN_WORD_CHAR}])(?:{alternatives})(?![{_LATIN_WORD_CHAR}])")
        self._thai_re = (re.compile("|".join(re.escape(p) for p in sorted(prefilter, key=len, reverse=True)))
                         if prefilter else None)

    def _cut_term(self, term: Term) -> tuple[str, ...]:
        tokens: list[str] = []
        for piece in term.value.split(" "):
            tokens.extend(t for t in _segment(piece, self.extra) if t.strip())
        return tuple(tokens)

    @property
    def topic_ids(self) -> list[int]:
        return list(self.rules)

    def match_many(self, texts: Sequence[str]) -> list[set[int]]:
        return [self.match(t) for t in texts]

    def match(self, text: str) -> set[int]:
        if not self.rules or not text:
            return set()
        hits: set[tuple[int, bool]] = set()
        if self.hashtags:
            for tag in _HASHTAG.findall(text):
                hits.update(self.hashtags.get(tag.lower(), ()))
        if self.handles:
            for handle in _HANDLE.findall(text):
                hits.update(self.handles.get(handle.lower(), ()))
        clean = normalise(text)
        if self._latin_re is not None:
            for m in self._latin_re.finditer(clean):
                phrase = " ".join(w for w in re.split(_SPACE_OR_HYPHEN, m.group(0)) if w)
                hits.update(self.latin.get(phrase, ()))
        if self._thai_re is not None and self._thai_re.search(clean):
            hits.update(self._thai_hits(clean))
        if not hits:
            return set()
        excluded = {topic for topic, exclude in hits if exclude}
        return {topic for topic, exclude in hits if not exclude and topic not in excluded}

    # --- Thai -----------------------------------------------------------------------------------

    def _thai_hits(self, clean: str) -> set[tuple[int, bool]]:
        raw = _segment(clean, self.extra)
        # Tokens without whitespace, each marked with whether a space separates it from the previous one.
        tokens: list[str] = []
        glued_left: list[bool] = []
        spaced = True
        for t in raw:
            if not t.strip():
                spaced = True
                continue
            tokens.append(t)
            glued_left.append(not spaced)
            spaced = False
        hits: set[tuple[int, bool]] = set()
        # One-token terms that occur inside the text at all: candidates for the compound rule.
        words = [w for w, entries in self.thai_terms.items()
                 if w in clean and any(len(term.tokens) == 1 for _, _, term in entries)]
        for i, token in enumerate(tokens):
            for topic_id, exclude, term in self.thai_terms.get(token, ()):
                k = len(term.tokens)
                if tuple(tokens[i:i + k]) == term.tokens and self._clean_edges(tokens, glued_left, i, i + k):
                    hits.add((topic_id, exclude))
            # A compound token made of dictionary words contains its words (ร้านกาแฟ ⊃ กาแฟ).
            for word in words:
                if word != token and word in token and self._compound_of(token, word) \
                        and self._clean_edges(tokens, glued_left, i, i + 1):
                    hits.update((t, x) for t, x, term in self.thai_terms[word] if len(term.tokens) == 1)
        return hits

    def _compound_of(self, token: str, word: str) -> bool:
        start = token.find(word)
        while start != -1:
            left, right = token[:start], token[start + len(word):]
            if self._all_words(left) and self._all_words(right):
                return True
            start = token.find(word, start + 1)
        return False

    def _all_words(self, text: str) -> bool:
        if not text:
            return True
        return all(piece in self.words for piece in _segment(text, self.extra))

    def _clean_edges(self, tokens: list[str], glued_left: list[bool], start: int, end: int) -> bool:
        """False when an unknown word is glued to the match on either side (แอร์|เม|ส)."""
        if _is_thai(tokens[start]):
            j = start - 1
            while j >= 0 and glued_left[j + 1] and _is_thai(tokens[j]):
                if tokens[j] not in self.words:
                    return False
                if _letters(tokens[j]) > _SHORT:
                    break
                j -= 1
        if _is_thai(tokens[end - 1]):
            j = end
            while j < len(tokens) and glued_left[j] and _is_thai(tokens[j]):
                if tokens[j] not in self.words:
                    return False
                if _letters(tokens[j]) > _SHORT:
                    break
                j += 1
        return True


_matchers: dict[tuple, TopicMatcher] = {}
_matchers_lock = threading.Lock()


def matcher_for(topics: Sequence[tuple[int, Sequence[str], Sequence[str]]]) -> TopicMatcher:
    """A cached matcher for these topics' rules (rebuilt when any rule changes)."""
    key = tuple((tid, tuple(inc), tuple(exc)) for tid, inc, exc in sorted(topics, key=lambda t: t[0]))
    with _matchers_lock:
        matcher = _matchers.get(key)
    if matcher is None:
        matcher = TopicMatcher(topics)
        with _matchers_lock:
            if len(_matchers) > 256:
                _matchers.clear()
            _matchers[key] = matcher
    return matcher
