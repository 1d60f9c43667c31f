"""What contacts typed, made safe to show on a terminal: data, never control.

A stored question may hold anything: bidi overrides that reorder what an organiser reads
(U+202E turns « payer » into « reyap »), escape sequences that drive the terminal, zero-width
characters that hide a difference. `visible` shows each of them as its code point instead,
`⟨U+202E⟩`, and leaves every other character as it is. Markup is the caller's business: Rich
callers wrap the result in `Text`, which never interprets it.
"""

from __future__ import annotations

import unicodedata

HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format, surrogate, unassigned…
KEPT = {"\u200d"}  # zero-width joiner: inside emoji sequences (👩‍💻), harmless on its own


def visible(text: str) -> str:
    """`text` with control, format (bidi, zero-width) and line-separator characters spelled
    out as `⟨U+XXXX⟩`."""
    return "".join(
        f"⟨U+{ord(char):04X}⟩"
        if unicodedata.category(char) in HIDDEN and char not in KEPT
        else char
        for char in text
    )
