"""Laureates files as organisers export them: every error on its spreadsheet line, in French;
any encoding, separator or format of one list gives one parse and one set of keys."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from bot.datafile import DataFileError
from bot.laureates.keys import content_digest, post_key
from bot.laureates.model import LaureateList
from bot.laureates.sources import UNREADABLE
from bot.laureates.validate import check_laureates, load_laureates

DATA = Path(__file__).parent.parent / "data" / "laureates"
FORTY = DATA / "palmares-2025-40-cp1252.csv"
EXAMPLE = Path(__file__).parent.parent.parent / "scheduler" / "laureates-example.csv"

COLUMNS = "collectivite, type, territoire, distinction, mention, site, fediverse"
TRANSCRIPTS = {
    "unknown-type.csv": ["ligne 7 : type « mairie » inconnu"],
    "missing-column.csv": ["ligne 1 : colonne « distinction » manquante"],
    "unknown-distinction.csv": [
        "ligne 2 : distinction « Platine » inconnue pour l’édition 2025 (Badge, Bronze, Argent ou Or)",
        "ligne 3 : distinction « niveau 3 » inconnue pour l’édition 2025 (Badge, Bronze, Argent ou Or)",
    ],
    "empty-name.csv": ["ligne 3 : nom de collectivité vide"],
    "duplicate.csv": ["ligne 4 : collectivité « ville de BRUMEVAL » déjà présente ligne 2"],
    "ragged.csv": ["ligne 3 : 6 cellules au lieu de 7", "ligne 4 : 8 cellules au lieu de 7"],
    "bad-url.csv": [
        "ligne 2 : site « www.brumeval.example » invalide",
        "ligne 3 : site « ftp://fictiveville.example/ » invalide",
        "ligne 4 : site « https://exempleton.example/numérique libre » invalide",
    ],
    "bad-handle.csv": [
        "ligne 2 : compte fediverse « brumeval@mastodon.example » invalide (@nom@instance)",
        "ligne 3 : compte fediverse « @fictiveville » invalide (@nom@instance)",
    ],
    "undecodable.csv": [f"ligne 3 : {UNREADABLE}"],
    "empty.csv": ["ligne 1 : fichier vide"],
    "header-only.csv": ["ligne 2 : aucun lauréat : le fichier n’a que son en-tête"],
    "control-characters.csv": [
        "ligne 2 : « collectivite » contient des caractères de contrôle invisibles"
    ],
    "not-a-list.yaml": [
        "ligne 1 : le fichier doit être une liste de lauréats (« - collectivite: … »)"
    ],
    "missing-key.yaml": [
        "ligne 6 : « territoire » manquant",
        f"ligne 9 : clé « couleur » inconnue (clés possibles : {COLUMNS})",
    ],
}


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_each_malformed_file_gets_its_line_numbered_messages(name: str) -> None:
    problems = check_laureates(DATA / name, 2025)
    assert [f"ligne {p.line} : {p.message}" for p in problems] == TRANSCRIPTS[name]
    assert all(str(p).startswith(f"tests/data/laureates/{name}:") for p in problems)


def test_the_whole_file_is_refused_on_one_error() -> None:
    with pytest.raises(DataFileError) as caught:
        load_laureates(DATA / "unknown-type.csv", 2025)
    assert str(caught.value) == "tests/data/laureates/unknown-type.csv:7: type « mairie » inconnu"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "Collectivité,Type,Territoire,Distinction,Couleur\n"
        "Ville de Brumeval,mairie,Finistère,Or,verte\n"
        ",commune,,niveau 9,bleue\n",
        encoding="utf-8",
    )
    assert [f"ligne {p.line} : {p.message}" for p in check_laureates(path, 2024)] == [
        f"ligne 1 : colonne « Couleur » inconnue (colonnes possibles : {COLUMNS})",
        "ligne 2 : type « mairie » inconnu",
        "ligne 2 : distinction « Or » inconnue pour l’édition 2024 "
        "(niveau 1, niveau 2, niveau 3, niveau 4 ou niveau 5)",
        "ligne 3 : nom de collectivité vide",
        "ligne 3 : territoire vide",
        "ligne 3 : distinction « niveau 9 » inconnue pour l’édition 2024 "
        "(niveau 1, niveau 2, niveau 3, niveau 4 ou niveau 5)",
    ]


def test_the_forty_laureates_of_a_windows_1252_semicolon_export() -> None:
    palmares = load_laureates(FORTY, 2025)
    assert len(palmares.laureates) == 40
    first, third = palmares.laureates[0], palmares.laureates[2]
    assert (first.name, first.kind, first.distinction.name) == (
        "Ville de Brumeval",
        "commune",
        "Or",
    )
    assert first.fediverse == "@brumeval@mastodon.example"
    assert third.kind == "communauté d’agglomération"
    assert palmares.laureates[6].name == "Ville de Sainte-Œuvre-Libre"
    assert [x.line for x in palmares.laureates] == list(range(2, 42))


def test_levels_before_2025_in_every_spelling(tmp_path: Path) -> None:
    path = tmp_path / "2022.csv"
    path.write_text(
        "collectivite;type;territoire;distinction\n"
        "Ville de Brumeval;Commune;Finistère;Niveau 5\n"
        "Ville de Fictiveville;COMMUNE;Hérault;3\n"
        "Syndicat de Lorem;syndicat;Gard;niv. 2\n",
        encoding="utf-8",
    )
    palmares = load_laureates(path, 2022)
    assert [x.distinction.name for x in palmares.laureates] == ["niveau 5", "niveau 3", "niveau 2"]


def test_a_quoted_cell_over_two_lines_keeps_the_spreadsheet_row_number(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(
        "collectivite,type,territoire,distinction,mention\n"
        'Ville de Brumeval,commune,Finistère,Or,"Mutualisation\net partage"\n'
        "Ville de Fictiveville,mairie,Hérault,Or,\n",
        encoding="utf-8",
    )
    assert [(p.line, p.message) for p in check_laureates(path, 2025)] == [
        (3, "type « mairie » inconnu")
    ]


def reexport(tmp_path: Path, name: str, text: str, encoding: str, bom: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return path


def test_encodings_separators_bom_and_yaml_give_one_parse_and_one_set_of_keys(
    tmp_path: Path,
) -> None:
    reference = load_laureates(FORTY, 2025)
    text = FORTY.read_bytes().decode("cp1252")
    comma = "\n".join(
        ",".join(f'"{cell}"' if "," in cell else cell for cell in line.split(";"))
        for line in text.splitlines()
    )
    yaml_text = "".join(
        f'- collectivite: "{x.name}"\n  type: {x.kind}\n  territoire: {x.territory}\n'
        f"  distinction: {x.distinction.name}\n"
        + (f"  mention: {x.mention}\n" if x.mention else "")
        + (f"  site: {x.site}\n" if x.site else "")
        + (f'  fediverse: "{x.fediverse}"\n' if x.fediverse else "")
        for x in reference.laureates
    )
    variants = [
        reexport(tmp_path, "utf8.csv", text, "utf-8"),
        reexport(tmp_path, "bom.csv", text, "utf-8", codecs.BOM_UTF8),
        reexport(tmp_path, "comma.csv", comma, "cp1252"),
        reexport(tmp_path, "comma-bom.csv", comma + "\n,,,,,,\n", "utf-8", codecs.BOM_UTF8),
        reexport(tmp_path, "list.yaml", yaml_text, "utf-8"),
    ]
    for path in variants:
        palmares = load_laureates(path, 2025)
        assert palmares == reference, path.name
        assert content_digest(palmares) == content_digest(reference), path.name


def test_keys_change_with_what_is_published_and_with_the_edition() -> None:
    reference = load_laureates(FORTY, 2025)
    laureates = reference.laureates
    renamed = LaureateList(2025, (laureates[1], laureates[0], *laureates[2:]), FORTY)
    other_edition = LaureateList(2026, laureates, FORTY)
    digests = {content_digest(x) for x in (reference, renamed, other_edition)}
    assert len(digests) == 3
    assert post_key(reference, "summary") == f"laureates:2025:{content_digest(reference)}:summary"


def test_the_shipped_example_is_valid() -> None:
    palmares = load_laureates(EXAMPLE, 2025)
    assert len(palmares.laureates) == 6
    assert {x.distinction.name for x in palmares.laureates} == {"Or", "Argent", "Bronze", "Badge"}
