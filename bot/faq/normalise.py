"""French text normalisation for matching: from a chat message to a tuple of comparable terms.

The order matters and was chosen on real paraphrase data:

1. Unicode compatibility forms, one apostrophe, lower case; control characters dropped.
2. Elisions (l', d', qu', jusqu'…) and hyphenated inversions (puis-je, a-t-il) split off.
3. Accents folded *before* stemming: people type "collectivites" in chat as often as
   "collectivités", and Snowball stems the two differently; folding first makes them one term.
4. Synonyms (mairie → commune, interco → intercommunalité), matched on whole words and phrases.
5. Stop words dropped, except the interrogatives that carry intent (quand, combien, qui…).
6. Snowball French stemming, with a few protected words whose stems would collide.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import snowballstemmer

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_ELISION = re.compile(r"\b(?:qu|jusqu|lorsqu|puisqu|quoiqu|presqu|[cdjlmnst])'")
_WORD = re.compile(r"[a-z0-9]+")

# Only words that never decide which entry answers; the interrogatives (qui, quand, combien,
# comment, pourquoi, où) are kept on purpose: they separate "qui peut…" from "comment…".
STOP_WORDS = frozenset(
    """
    a afin ai aie aient ait alors as au aucun aucune aupres aussi autre autres aux avais
    avait avant avec avez aviez avoir avons ayant ayez b bah beaucoup bien bon bonne c ca
    car ce ceci cela celle celles celui cependant certain certaine certains ces cet cette
    ceux chaque chez ci comme d dans de des deja depuis dois doit donc dont du e elle elles
    en encore entre es est et etaient etais etait etant ete etes etre eu eux euh f fait
    faites faut g h hein i ici il ils j je jusqu k l la le les leur leurs lui m ma mais me
    meme memes merci mes moi mon n ne ni nos notre nous o on ont oui p par parce pas peu
    peut peuvent peux plus pour pourrais pourrait pourriez pouvez pouvons puis puisque q qu
    que quel quelle quelles quels quoi r s sa sans se sera serait ses si sil soit sommes son
    sont sous suis sur t ta te tes toi ton tous tout toute toutes tres tu u un une v vais
    vas veux voila vos votre vous vu w x y z svp stp bonjour bonsoir salut hello madame
    monsieur mme mr mes cordialement slt bjr voudrais souhaiterais aimerais savoir dire
    connaitre question questions petite petit juste aujourd hui aujourdhui actuellement
    donc voudrions souhaitons aimerions pouvons nous vos
    """.split()
)

# Chat spellings of the interrogatives and a few function words, whatever the corpus says.
CHAT_SPEAK: Mapping[str, str] = {
    "koi": "quoi",
    "kwa": "quoi",
    "ki": "qui",
    "kan": "quand",
    "qd": "quand",
    "cb": "combien",
    "cmb": "combien",
    "cmt": "comment",
    "cmnt": "comment",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "bcp": "beaucoup",
    "tt": "tout",
    "vs": "vous",
    "ns": "nous",
    "jsp": "sais",
}

_CHAT_WORDS = frozenset(CHAT_SPEAK)

# Snowball merges these with unrelated words ("communication" and "commune" both give "commun").
PROTECTED_STEMS: Mapping[str, str] = {
    "communication": "communication",
    "communications": "communication",
    "communiquer": "communication",
    "communique": "communication",
    "donnee": "donnee",
    "donnees": "donnee",
    "libre": "libre",
    "libres": "libre",
    "ouvert": "ouvert",
    "ouverts": "ouvert",
    "ouverte": "ouvert",
    "ouvertes": "ouvert",
    "ouverture": "ouverture",
    "ouvre": "ouverture",
    "ouvrent": "ouverture",
    "ouvrira": "ouverture",
}


def fold(text: str) -> str:
    """Lower-case ASCII: one apostrophe, no accents; what matching cannot use is dropped.

    Only [a-z0-9] ever becomes a term, so emoji, symbols and control characters go with the
    accents in one C-level pass instead of a Python loop per character.
    """
    if text.isascii():  # the same in one pass: no accent, ligature or curly apostrophe to fold
        return text.replace("`", "'").lower()
    text = text.translate(_APOSTROPHES).casefold().translate(_LIGATURES)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def words(text: str) -> list[str]:
    """Folded words with elisions removed; hyphens, punctuation and symbols separate words.

    Called for every phrasing and keyword when a corpus is validated and again when it is
    indexed (160,000 times at 10,000 entries): most texts have no chat spelling, and are not
    rewritten word by word.
    """
    found: list[str] = _WORD.findall(_ELISION.sub(" ", fold(text)))
    if _CHAT_WORDS.isdisjoint(found):
        return found
    return [CHAT_SPEAK.get(w, w) for w in found]


@dataclass(frozen=True)
class Synonyms:
    """Whole-word phrase rewriting: each variant (a tuple of folded words) → canonical words."""

    phrases: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_groups(cls, groups: Mapping[str, Iterable[str]]) -> Synonyms:
        phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, variants in groups.items():
            target = tuple(words(canonical))
            for variant in variants:
                key = tuple(words(variant))
                if key and key != target:
                    phrases[key] = target
        return cls(phrases)

    def __post_init__(self) -> None:
        # Per first word, the longest variant starting with it: most words start none, and are
        # passed over with one lookup instead of one per variant length (the corpus's 80,000
        # phrasings at 10,000 entries are normalised when the index is built).
        starts: dict[str, int] = {}
        for key in self.phrases:
            starts[key[0]] = max(starts.get(key[0], 0), len(key))
        object.__setattr__(self, "starts", starts)

    starts: Mapping[str, int] = field(init=False, default_factory=dict)

    def apply(self, tokens: Sequence[str]) -> list[str]:
        """Greedy longest match first: "communauté de communes" wins over "communes"."""
        if not self.phrases:
            return list(tokens)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            longest = self.starts.get(tokens[i], 0)
            for size in range(min(longest, len(tokens) - i), 0, -1):
                target = self.phrases.get(tuple(tokens[i : i + size]))
                if target is not None:
                    out.extend(target)
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


class Normaliser:
    """Turns text into matching terms; stems are memoised since vocabularies are small."""

    def __init__(self, synonyms: Synonyms | None = None) -> None:
        self.synonyms = synonyms or Synonyms()
        self._stemmer = snowballstemmer.stemmer("french")
        self._stems: dict[str, str] = {}

    def content_words(self, text: str) -> list[str]:
        """Folded words after synonyms, without stop words: what typo correction works on."""
        return [w for w in self.synonyms.apply(words(text)) if w not in STOP_WORDS]

    def stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            stem = PROTECTED_STEMS.get(word) or str(self._stemmer.stemWord(word))
            self._stems[word] = stem
        return stem

    def terms(self, text: str) -> tuple[str, ...]:
        return tuple(self.stem(w) for w in self.content_words(text))
