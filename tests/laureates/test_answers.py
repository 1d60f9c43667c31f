"""Questions about a collectivity's result, answered from the published palmarès (transcripts).

The lists hold facts from the label's published results (2020–2025), plus an invented « Ville de
Nivea » whose name is one typo away from the word « niveau »."""

from __future__ import annotations

import pytest

from bot.french import typography
from bot.laureates.answers import answer
from bot.laureates.model import LEVELS, MEDALS, Laureate


def laureate(name: str, rank: int, edition: int, mention: str | None = None) -> Laureate:
    scale = MEDALS if edition >= 2025 else LEVELS
    return Laureate(name, "commune", "—", scale[rank - 1], mention)


PUBLISHED = {
    2020: [laureate("Ville de Lyon", 3, 2020)],
    2021: [
        laureate("Ville de Lyon", 3, 2021),
        laureate("Ville d'Échirolles", 4, 2021, "Meilleure première candidature"),
    ],
    2022: [
        laureate("Ville de Lyon", 4, 2022),
        laureate("Ville d'Échirolles", 5, 2022),
        laureate("Ville de Nivea", 2, 2022),
    ],
    2025: [
        laureate("Eurométropole de Strasbourg", 1, 2025),
        laureate("Morbihan Énergies", 4, 2025),
        laureate("Communauté d'Agglomération du Sud", 1, 2025),
    ],
}
UNKNOWN = (
    "Mes listes peuvent être incomplètes ou le nom écrit autrement : l’équipe du label vous "
    "renseignera à l’adresse label@territoire-numerique-libre.org."
)
LYON = (
    "Ville de Lyon a obtenu le niveau 4 en 2022. Auparavant : niveau 3 en 2021 et niveau 3 en 2020."
)
TRANSCRIPTS = [
    (
        "Strasbourg a-t-elle été labellisée en 2025 ?",
        "Oui : Eurométropole de Strasbourg a obtenu le badge en 2025.",
    ),
    ("Quel niveau a obtenu Lyon ?", LYON),
    ("quel niveau a obtenu lyon", LYON),
    (
        "Lyon a-t-elle été labellisée en 2025 ?",
        f"Non : Ville de Lyon ne figure pas dans le palmarès 2025. {LYON}",
    ),
    ("Lyon a-t-elle été labellisée en 2027 ?", f"Le palmarès 2027 n’est pas publié. {LYON}"),
    (
        "La ville d'Echirolles est-elle labellisée ?",
        "Ville d'Échirolles a obtenu le niveau 5 en 2022. Auparavant : niveau 4 en 2021.",
    ),
    (
        "Échirolles a-t-elle été labellisée en 2021 ?",
        "Oui : Ville d'Échirolles a obtenu le niveau 4, avec la mention spéciale « Meilleure première candidature » en 2021.",
    ),
    (
        "Strasburg a-t-elle été labellisée ?",
        "Eurométropole de Strasbourg a obtenu le badge en 2025.",
    ),
    ("quel niveau pour morbihan energies", "Morbihan Énergies a obtenu le label Or en 2025."),
    (
        "Quel niveau a obtenu la Communauté d’agglomération du Sud ?",
        "Communauté d'Agglomération du Sud a obtenu le badge en 2025.",
    ),
    (
        "Nancy a-t-elle été labellisée en 2025 ?",
        f"Je ne trouve pas « Nancy » dans les palmarès publiés (2020, 2021, 2022 et 2025). {UNKNOWN}",
    ),
    (
        "Est-ce que la commune de Saint-Glinglin-sur-Mer est lauréate ?",
        f"Je ne trouve pas « Saint-Glinglin-sur-Mer » dans les palmarès publiés (2020, 2021, 2022 et 2025). {UNKNOWN}",
    ),
]
NOT_ABOUT_A_COLLECTIVITY = [
    "Quels sont les niveaux du label ?",
    "Quel niveau faut-il pour avoir le panneau ?",
    "Comment se passe la labellisation ?",
    "Comment obtenir le label ?",
    "Combien de collectivités ont obtenu le label ?",
    "Qui a obtenu le label Or en 2025 ?",
    "La labellisation est-elle gratuite ?",
    "Mon village peut-il être labellisé ?",
    "Les lauréats reçoivent-ils un trophée ?",
    "Quand ouvre la campagne ?",
    "Lyon",
]


@pytest.mark.parametrize(("question", "expected"), TRANSCRIPTS)
def test_questions_about_a_collectivity(question: str, expected: str) -> None:
    assert answer(question, PUBLISHED) == typography(expected)


@pytest.mark.parametrize("question", NOT_ABOUT_A_COLLECTIVITY)
def test_questions_that_name_no_collectivity_are_left_to_the_faq(question: str) -> None:
    assert answer(question, PUBLISHED) is None


def test_nothing_published_answers_nothing() -> None:
    assert answer("Strasbourg a-t-elle été labellisée ?", {}) is None
