"""Outbox keys of a palmarès: the same list sent twice publishes nothing twice.

The digest hashes the parsed laureates, not the file's bytes: re-exported with another encoding,
separator or format, or with a stray BOM or trailing empty rows, a list keeps its keys; any change
an organiser makes to what is published (a name, a grade, the order) gives new ones.
"""

from __future__ import annotations

import hashlib
import json

from bot.laureates.model import LaureateList


def content_digest(laureates: LaureateList) -> str:
    """A stable hash of the edition and of every published field, in file order."""
    payload = [
        laureates.edition,
        [
            [x.name, x.kind, x.territory, x.distinction.name, x.mention, x.site, x.fediverse]
            for x in laureates.laureates
        ],
    ]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def post_key(laureates: LaureateList, part: str) -> str:
    """`laureates:2025:<digest>:<part>`; `part` names one post: `summary`, `laureate:7`,
    `digest:2`. The outbox adds the target, so a key is per (post, target)."""
    return f"laureates:{laureates.edition}:{content_digest(laureates)}:{part}"
