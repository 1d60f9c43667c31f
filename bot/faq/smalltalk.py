"""Greetings, thanks and requests for help: answered briefly, never with an FAQ entry."""

from __future__ import annotations

import enum

from bot.faq.normalise import words


class SmallTalk(enum.Enum):
    EMPTY = "empty"
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    HELP = "help"


_KINDS: dict[SmallTalk, frozenset[str]] = {
    SmallTalk.HELP: frozenset(["aide", "aidez", "help", "aider", "menu", "commandes", "sos"]),
    SmallTalk.THANKS: frozenset(
        ["merci", "thanks", "thx", "mrc", "remercie", "remerciements", "parfait"]
    ),
    SmallTalk.GOODBYE: frozenset(["revoir", "bye", "ciao", "adieu", "tchao"]),
    SmallTalk.GREETING: frozenset(
        [
            "bonjour",
            "bonsoir",
            "salut",
            "hello",
            "coucou",
            "hey",
            "bjr",
            "slt",
            "cc",
            "hi",
            "yo",
            "allo",
        ]
    ),
}
# Words that may surround a greeting without turning it into a question.
_FILLER = frozenset(
    """
    a au le la les l un une de du des et tous toutes tout vous toi moi je j me m beaucoup
    bien ok okay super top cool genial bonne bon journee soiree matinee the bot robot
    assistant madame monsieur equipe encore infiniment mille fois svp stp please s il te
    plait ca va comment est ce que qu y
    """.split()
)


def classify(text: str) -> SmallTalk | None:
    """The kind of small talk, or None when the message carries a real question."""
    found = words(text)
    if not found:
        return SmallTalk.EMPTY
    kinds = [kind for kind, vocabulary in _KINDS.items() if vocabulary & set(found)]
    known = set().union(*_KINDS.values()) | _FILLER
    if not kinds or any(word not in known for word in found):
        return None
    return kinds[0]
