"""Where a workspace's own training examples come from: agents' corrections of labels.

The inbox (issue 6, item 2) will store corrections; ``correction_examples`` is the one place
that reads them for ``samphan sentiment train --workspace W --with-corrections``. Until the
inbox stores any, it returns none and the command says so. ``--extra FILE.jsonl`` feeds the
same path from a file in the meantime.
"""

from __future__ import annotations

from samphan.sentiment.training import Example


def correction_examples(*, workspace) -> list[Example]:
    """The workspace's corrected (text, category) pairs, oldest first."""
    return []
