"""The fake answers each covered endpoint with at least the keys and the status codes that a
real Mastodon 4.6.4 server gave in the recordings of ../shared/platform-samples/mastodon/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.fakes.mastodon_server import FakeMastodon

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "platform-samples" / "mastodon"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def recorded(cassette: str, method: str, path: str, status: int = 200) -> Any:
    """The JSON body of the first recorded interaction with that method, path and status."""
    for interaction in yaml.safe_load((SAMPLES / cassette).read_text())["interactions"]:
        request, response = interaction["request"], interaction["response"]
        uri = request["uri"].split("localhost:3000", 1)[-1].split("?")[0].rstrip("/")
        if request["method"] == method and uri == path and response["status"]["code"] == status:
            return json.loads(response["body"]["string"])
    raise LookupError(f"{cassette}: no {method} {path} {status}")


def missing_keys(real: Any, fake: Any, where: str = "") -> list[str]:
    """Keys of the real JSON absent from the fake's, recursively (lists: first elements)."""
    if isinstance(real, dict):
        if not isinstance(fake, dict):
            return [f"{where or '.'}: object expected"]
        problems = [f"{where}.{key}" for key in real if key not in fake]
        for key in real.keys() & fake.keys():
            problems += missing_keys(real[key], fake[key], f"{where}.{key}")
        return problems
    if isinstance(real, list) and real and isinstance(fake, list) and fake:
        return missing_keys(real[0], fake[0], f"{where}[0]")
    return []


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"recordings not found at {SAMPLES}")
    return SAMPLES


async def test_fake_has_the_real_keys_and_status_codes(fake: FakeMastodon, samples: Path) -> None:
    me = fake.add_account("tnl", "t1", bot=True)
    other = fake.add_account("alice", "t2")
    auth = {"Authorization": "Bearer t1"}
    question = fake.post_as("t2", "@tnl bonjour !")
    async with aiohttp.ClientSession(fake.base, headers=auth) as http:

        async def check(
            method: str, path: str, cassette: str, status: int = 200, **kw: Any
        ) -> None:
            async with http.request(method, path, **kw) as response:
                assert response.status == status, (method, path)
                body = await response.json()
                for header in RATE_HEADERS:
                    assert header in response.headers, (path, header)
            real = recorded(
                cassette,
                method,
                path.split("?", maxsplit=1)[0] if "{" not in path else path,
                status,
            )
            assert missing_keys(real, body) == [], (method, path, missing_keys(real, body))

        await check("GET", "/api/v2/instance", "test_instance.yaml")
        await check("GET", "/api/v1/instance", "test_stream_user_direct.yaml")
        await check("GET", "/api/v1/accounts/verify_credentials", "test_verify_credentials.yaml")
        await check(
            "POST",
            "/api/v1/statuses",
            "test_status_post[None-public].yaml",
            data={"status": "Toot!", "visibility": "public"},
        )
        await check("POST", "/api/v1/statuses", "test_status_empty.yaml", 422, data={"status": ""})
        await check(
            "POST", "/api/v1/statuses", "test_lang_for_errors.yaml", 422, data={"status": "a" * 501}
        )
        notifications_real = recorded(
            "test_notifications_mentions_only.yaml", "GET", "/api/v1/notifications"
        )
        async with http.get("/api/v1/notifications", params={"types[]": "mention"}) as response:
            assert response.status == 200
            body = await response.json()
        assert body[0]["status"]["id"] == question["id"]
        assert missing_keys(notifications_real, body) == []

        real_reply = recorded("test_status_reply.yaml", "POST", "/api/v1/statuses")
        async with http.post(
            "/api/v1/statuses", data={"status": "@alice merci", "in_reply_to_id": question["id"]}
        ) as response:
            reply = await response.json()
        assert missing_keys(real_reply, reply) == []
        assert reply["mentions"][0]["id"] == other["id"]

        real_delete = recorded(
            "test_notifications.yaml", "DELETE", f"/api/v1/statuses/{_deleted_id(samples)}"
        )
        async with http.delete(f"/api/v1/statuses/{reply['id']}") as response:
            assert response.status == 200
            assert missing_keys(real_delete, await response.json()) == []

    async with (
        aiohttp.ClientSession(fake.base) as anonymous,
        anonymous.get("/api/v1/accounts/verify_credentials") as response,
    ):
        assert response.status == 401
        real = recorded("test_unauthed_home_tl_throws.yaml", "GET", "/api/v1/timelines/home", 401)
        assert missing_keys(real, await response.json()) == []
    assert me["statuses_count"] == 1


def _deleted_id(samples: Path) -> str:
    for interaction in yaml.safe_load((samples / "test_notifications.yaml").read_text())[
        "interactions"
    ]:
        if interaction["request"]["method"] == "DELETE":
            return str(interaction["request"]["uri"].rsplit("/", 1)[1])
    raise LookupError("no DELETE recorded")


async def test_429_after_the_window_is_spent_with_headers(fake: FakeMastodon) -> None:
    fake.add_account("tnl", "t1", bot=True)
    fake.requests.limit = 3
    async with aiohttp.ClientSession(fake.base, headers={"Authorization": "Bearer t1"}) as http:
        codes = []
        for _ in range(4):
            async with http.get("/api/v1/accounts/verify_credentials") as response:
                codes.append(response.status)
                remaining = response.headers["X-RateLimit-Remaining"]
        assert codes == [200, 200, 200, 429]
        assert remaining == "0"
    assert fake.throttled == 1
