"""Where a workspace's own training examples come from: agents' corrections of labels.

Apps that store corrections (the inbox for messages, listening for mentions) register a source
with ``register_correction_source``; ``correction_examples`` is the one place that reads them
for ``samphan sentiment train --workspace W --with-corrections``. ``--extra FILE.jsonl`` feeds
the same path from a file.
"""

from __future__ import annotations

from collections.abc import Callable

from samphan.sentiment.training import Example

# Each takes workspace= and returns that workspace's corrected (text, category) examples.
CORRECTION_SOURCES: list[Callable[..., list[Example]]] = []


def register_correction_source(fn: Callable[..., list[Example]]) -> Callable[..., list[Example]]:
    if fn not in CORRECTION_SOURCES:
        CORRECTION_SOURCES.append(fn)
    return fn


def correction_examples(*, workspace, language: str | None = None) -> list[Example]:
    """The workspace's corrected (text, category) pairs from every registered source, oldest first per source.

    ``language`` ("th" or "en") keeps only the texts ``text.detect_language`` sends to that
    language's model: a Thai correction teaches the English model nothing.
    """
    from samphan.sentiment.text import detect_language

    examples: list[Example] = []
    for source in CORRECTION_SOURCES:
        examples.extend(source(workspace=workspace))
    if language is not None:
        examples = [e for e in examples if detect_language(e.text) == language]
    return examples
