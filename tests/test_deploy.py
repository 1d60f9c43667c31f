"""The Docker image and docker-compose.yml, checked without a Docker engine: the compose file
against the Compose Specification's JSON schema (vendored, see tests/data/compose_spec.SOURCE.md),
then what a deployment relies on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[1]
SCHEMA = Path(__file__).parent / "data" / "compose_spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def dockerfile() -> str:
    # Continuation lines joined: one instruction per line.
    return (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ")


def instructions(dockerfile: str, name: str) -> list[str]:
    return [
        line.removeprefix(name).strip()
        for line in dockerfile.splitlines()
        if line.startswith(f"{name} ")
    ]


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    # Its $schema spells draft 2019-09's address in a way jsonschema does not recognise.
    assert "2019-09" in schema["$schema"]
    validator = jsonschema.Draft201909Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert errors == []


def test_bot_service_keeps_its_state_in_a_volume_and_reads_dot_env(
    compose: dict[str, Any],
) -> None:
    bot = compose["services"]["bot"]
    assert bot["env_file"] == ".env"
    volumes = [volume.split(":") for volume in bot["volumes"]]
    assert ["bot-data", "/data"] in volumes
    assert "bot-data" in compose["volumes"]
    assert bot["environment"]["TNL_DATA_DIR"] == "/data"
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert "profiles" not in bot  # `docker compose up` starts it


def test_web_port_published_on_the_hosts_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} publicly"
    assert compose["services"]["bot"]["ports"] == ["127.0.0.1:8080:8080"]
    assert "ports" not in compose["services"]["postgres"]  # reached on the compose network


def test_postgres_under_its_profile_with_a_healthcheck(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    environment = postgres["environment"]
    # The URL the compose file documents for the bot names this database, user and host.
    documented = re.search(
        r"postgresql\+asyncpg://(\w+):…@(\w+):5432/(\w+)", (ROOT / "docker-compose.yml").read_text()
    )
    assert documented is not None
    assert documented.groups() == (
        environment["POSTGRES_USER"],
        "postgres",
        environment["POSTGRES_DB"],
    )
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])


def test_image_is_slim_unprivileged_with_a_data_volume_and_a_healthcheck(dockerfile: str) -> None:
    (base,) = instructions(dockerfile, "FROM")
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    users = instructions(dockerfile, "USER")
    assert users
    assert users[-1] not in ("root", "0")
    assert instructions(dockerfile, "VOLUME") == ['["/data"]']
    (healthcheck,) = instructions(dockerfile, "HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "TNL_WEB_HOST=0.0.0.0" in " ".join(instructions(dockerfile, "ENV"))
    assert instructions(dockerfile, "CMD")[-1] == '["tnl-bot", "run"]'


def test_image_installs_as_the_readme_says(dockerfile: str) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    (install,) = [run for run in instructions(dockerfile, "RUN") if "pip install" in run]
    assert f"`{install}`" in readme


def test_secrets_and_local_state_stay_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)
