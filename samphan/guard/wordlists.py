"""The profanity lists the guard loads from maintained packages, and its Thai tokenizer.

- Thai: PyThaiNLP's own list (``pythainlp.corpus.thai_profanity_words``, from
  ``pythainlp/corpus/profanity_th.txt``, shipped since PyThaiNLP 5.3).
- English: better-profanity's word list (``better_profanity/profanity_wordlist.txt``), read as a
  file: the package's own matcher builds ~5 MB of objects on import and reports no positions,
  and the guard needs each word's span.

The Thai tokenizer is PyThaiNLP's newmm in its Rust build (nlpo3) with PyThaiNLP's word list
plus the profanity words and particles, so that a profane word is always one token, whatever
is written around it. Loading it takes about a second, once per process.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from samphan.guard.lexicon import ENGLISH_ORDINARY, POLITE_PARTICLES, THAI_AMBIGUOUS, WEAK_PARTICLES

_DICT_NAME = "samphan_guard_th"
_lock = threading.Lock()
_loaded = False


@lru_cache(maxsize=1)
def thai_profanity() -> frozenset[str]:
    from pythainlp.corpus.common import thai_profanity_words

    return frozenset(w.strip() for w in thai_profanity_words() if w.strip())


def thai_profanity_unambiguous() -> frozenset[str]:
    """The list less the ordinary words that are insults only after ไอ้ / อี (see lexicon)."""
    return thai_profanity() - THAI_AMBIGUOUS


@lru_cache(maxsize=1)
def english_profanity() -> frozenset[str]:
    spec = importlib.util.find_spec("better_profanity")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("better-profanity is not installed (pip install better-profanity)")
    path = Path(next(iter(spec.submodule_search_locations))) / "profanity_wordlist.txt"
    words = {line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines()}
    return frozenset(w for w in words if w and w not in ENGLISH_ORDINARY)


def _ensure_dictionary() -> str:
    global _loaded
    if _loaded:
        return _DICT_NAME
    with _lock:
        if _loaded:
            return _DICT_NAME
        from importlib.resources import files

        from pythainlp.tokenize.nlpo3 import load_dict

        base = files("pythainlp.corpus").joinpath("words_th.txt").read_text(encoding="utf-8")
        extra = "\n".join(sorted(thai_profanity() | POLITE_PARTICLES | WEAK_PARTICLES))
        fd, name = tempfile.mkstemp(prefix="samphan-guard-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(base.rstrip("\n") + "\n" + extra + "\n")
            if not load_dict(name, _DICT_NAME):
                raise RuntimeError("could not load the guard's Thai dictionary into nlpo3")
        finally:
            os.unlink(name)  # nlpo3 has read it into memory
        _loaded = True
    return _DICT_NAME


def thai_tokens(text: str) -> list[str]:
    """newmm (nlpo3) tokens of ``text``, whitespace kept, so that they join back to ``text``."""
    from pythainlp.tokenize import word_tokenize

    # nlpo3 takes the name of a dictionary loaded with nlpo3.load_dict; pythainlp annotates Trie only.
    return word_tokenize(text, engine="nlpo3", custom_dict=_ensure_dictionary(),  # type: ignore[arg-type]
                         keep_whitespace=True)
