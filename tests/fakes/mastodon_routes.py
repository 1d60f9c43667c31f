"""The fake Mastodon's endpoints (state lives in `FakeMastodon`, see mastodon_server.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes import mastodon_entities as entities
from tests.fakes.mastodon_entities import URL, Json
from tests.fakes.mastodon_server import CALL, ME

if TYPE_CHECKING:
    from tests.fakes.mastodon_server import FakeMastodon

TRUE = ("1", "true", "True")


def _length(text: str) -> int:
    return len(URL.sub("x" * 23, text))


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def add_routes(router: web.UrlDispatcher, fake: FakeMastodon) -> None:  # noqa: PLR0915
    def me(request: web.Request) -> Json:
        account: Json = request[ME]
        return account

    async def instance_v1(request: web.Request) -> web.Response:
        return web.json_response(entities.instance_v1(fake.base, fake.max_characters))

    async def instance_v2(request: web.Request) -> web.Response:
        return web.json_response(entities.instance_v2(fake.base, fake.max_characters))

    async def verify_credentials(request: web.Request) -> web.Response:
        return web.json_response(entities.credential_account(me(request)))

    async def update_credentials(request: web.Request) -> web.Response:
        account, form = me(request), request[CALL].form
        if "display_name" in form:
            account["display_name"] = form["display_name"]
        if "note" in form:
            account["note"] = f"<p>{form['note']}</p>"
        if "bot" in form:
            account["bot"] = form["bot"] in TRUE
        fields = []
        for index in range(4):
            name = form.get(f"fields_attributes[{index}][name]")
            if name is not None:
                value = form.get(f"fields_attributes[{index}][value]", "")
                fields.append({"name": name, "value": value, "verified_at": None})
        if fields:
            account["fields"] = fields
        return web.json_response(entities.credential_account(account))

    async def post_status(request: web.Request) -> web.Response:
        call = request[CALL]
        text = str(call.form.get("status") or "")
        if not text.strip() and not call.form.get("media_ids[]"):
            return _error(422, "Validation failed: Text can't be blank")
        if _length(text) + len(call.form.get("spoiler_text") or "") > fake.max_characters:
            return _error(
                422, f"Validation failed: Text character limit of {fake.max_characters} exceeded"
            )
        reply_to = call.form.get("in_reply_to_id")
        if reply_to and reply_to not in fake.statuses:
            return _error(404, "Record not found")
        return web.json_response(fake.create_status(me(request), call.form, call.idempotency_key))

    def find(request: web.Request) -> Json:
        found = fake.statuses.get(request.match_info["id"])
        if found is None:
            raise web.HTTPNotFound(
                text='{"error":"Record not found"}', content_type="application/json"
            )
        return found

    async def get_status(request: web.Request) -> web.Response:
        return web.json_response(find(request))

    async def delete_status(request: web.Request) -> web.Response:
        found = find(request)
        if found["account"]["id"] != me(request)["id"]:
            return _error(403, "This action is not allowed")
        del fake.statuses[found["id"]]
        found["account"]["statuses_count"] -= 1
        parent = fake.statuses.get(str(found["in_reply_to_id"]))
        if parent is not None:
            parent["replies_count"] -= 1
        fake.deleted.add(found["id"])
        deleted = {k: v for k, v in found.items() if k != "content"}
        deleted["text"] = entities.html_to_plain(found["content"])
        return web.json_response(deleted)

    async def context(request: web.Request) -> web.Response:
        root = find(request)
        ancestors: list[Json] = []
        parent = fake.statuses.get(str(root["in_reply_to_id"]))
        while parent is not None:
            ancestors.insert(0, parent)
            parent = fake.statuses.get(str(parent["in_reply_to_id"]))
        descendants: list[Json] = []
        frontier = [root["id"]]
        while frontier:
            children = [s for s in fake.statuses.values() if s["in_reply_to_id"] in frontier]
            descendants.extend(children)
            frontier = [s["id"] for s in children]
        return web.json_response({"ancestors": ancestors, "descendants": descendants})

    async def lookup(request: web.Request) -> web.Response:
        """`acct` as Mastodon takes it: `user`, or `user@domain` with the server's own domain
        (its accounts are local; anything else is unknown here)."""
        user, _, domain = request.query.get("acct", "").lstrip("@").partition("@")
        local = domain in ("", urllib.parse.urlsplit(fake.base).netloc)
        found = next((a for a in fake.accounts.values() if a["username"] == user), None)
        if found is None or not local:
            return _error(404, "Record not found")
        return web.json_response(found)

    async def account_statuses(request: web.Request) -> web.Response:
        owner = next(
            (a for a in fake.accounts.values() if a["id"] == request.match_info["id"]), None
        )
        if owner is None:
            return _error(404, "Record not found")
        found = sorted(fake.posts_of(owner), key=lambda s: int(s["id"]), reverse=True)
        max_id = request.query.get("max_id")
        if max_id:
            found = [s for s in found if int(s["id"]) < int(max_id)]
        return web.json_response(found[: min(int(request.query.get("limit", 20)), 40)])

    async def post_media(request: web.Request) -> web.Response:
        posted = await request.post()
        upload: Any = posted.get("file")
        if upload is None or not hasattr(upload, "file"):
            return _error(422, "Validation failed: File can't be blank")
        media_id = fake.next_id()
        description = posted.get("description")
        fake.media[media_id] = entities.media(
            fake.base, media_id, str(description) if description else None, upload.filename
        )
        request[CALL].form.update({"description": description, "file": upload.filename})
        return web.json_response(fake.media[media_id])

    async def notifications(request: web.Request) -> web.Response:
        query = request.query
        found = list(fake.notifications[me(request)["id"]])
        if query.get("include_filtered") not in TRUE:
            found = [n for n in found if n["id"] not in fake.filtered]
        types = query.getall("types[]", [])
        if types:
            found = [n for n in found if n["type"] in types]
        limit = min(int(query.get("limit", 40)), 80)
        if "max_id" in query:
            found = [n for n in found if int(n["id"]) < int(query["max_id"])]
        if "since_id" in query:
            found = [n for n in found if int(n["id"]) > int(query["since_id"])]
        if "min_id" in query:  # the page right after min_id (oldest first), served newest first
            found = [n for n in found if int(n["id"]) > int(query["min_id"])][:limit]
        else:
            found = found[-limit:]
        found.reverse()
        response = web.json_response(found)
        if found:
            path = f"{fake.base}/api/v1/notifications"
            response.headers["Link"] = (
                f'<{path}?max_id={found[-1]["id"]}>; rel="next", '
                f'<{path}?min_id={found[0]["id"]}>; rel="prev"'
            )
        return response

    async def get_policy(request: web.Request) -> web.Response:
        return web.json_response(policy(me(request)))

    def policy(account: Json) -> Json:
        pending = requests_of(account)
        return {
            **fake.policies[account["id"]],
            "summary": {
                "pending_requests_count": len(pending),
                "pending_notifications_count": sum(int(r["notifications_count"]) for r in pending),
            },
        }

    async def patch_policy(request: web.Request) -> web.Response:
        account, form = me(request), request[CALL].form
        for key, value in form.items():
            if key in fake.policies[account["id"]]:
                if value not in ("accept", "filter", "drop"):
                    return _error(422, f"Validation failed: {key} is invalid")
                fake.policies[account["id"]][key] = value
        return web.json_response(policy(account))

    def requests_of(account: Json) -> list[Json]:
        by_source: dict[str, list[Json]] = {}
        for item in fake.notifications[account["id"]]:
            if item["id"] in fake.filtered:
                by_source.setdefault(item["account"]["id"], []).append(item)
        return [
            {
                "id": source_id,
                "created_at": items[0]["created_at"],
                "updated_at": items[-1]["created_at"],
                "account": items[-1]["account"],
                "notifications_count": str(len(items)),
                "last_status": items[-1]["status"],
            }
            for source_id, items in by_source.items()
        ]

    async def notification_requests(request: web.Request) -> web.Response:
        return web.json_response(requests_of(me(request)))

    async def accept_request(request: web.Request) -> web.Response:
        account, source_id = me(request), request.match_info["id"]
        for item in fake.notifications[account["id"]]:
            if item["account"]["id"] == source_id:
                fake.filtered.discard(item["id"])
        fake.follows.add((account["id"], source_id))  # a permission, like Mastodon's
        return web.json_response({})

    async def stream(request: web.Request) -> web.StreamResponse:
        """Server-sent events: `event: notification` blocks, a comment when connected."""
        if fake.refuse_streaming:
            return _error(404, "Not Found")
        account = me(request)
        queue: asyncio.Queue[Json | None] = asyncio.Queue()
        fake.streams.setdefault(account["id"], []).append(queue)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        try:
            await response.prepare(request)
            await response.write(b":)\n")
            fake.stream_opened.set()
            while (notification := await queue.get()) is not None:
                data = json.dumps(notification)
                await response.write(f"event: notification\ndata: {data}\n\n".encode())
        finally:
            fake.streams[account["id"]].remove(queue)
        return response

    for path, handler in (
        ("/api/v1/streaming/user", stream),
        ("/api/v1/streaming/user/notification", stream),
        ("/api/v1/instance", instance_v1),
        ("/api/v2/instance", instance_v2),
        ("/api/v1/accounts/verify_credentials", verify_credentials),
        ("/api/v1/accounts/lookup", lookup),
        ("/api/v1/statuses/{id}", get_status),
        ("/api/v1/statuses/{id}/context", context),
        ("/api/v1/accounts/{id}/statuses", account_statuses),
        ("/api/v1/notifications", notifications),
        ("/api/v2/notifications/policy", get_policy),
        ("/api/v1/notifications/requests", notification_requests),
    ):
        router.add_get(path, handler)
        router.add_get(path + "/", handler)
    router.add_patch("/api/v1/accounts/update_credentials", update_credentials)
    router.add_patch("/api/v2/notifications/policy", patch_policy)
    router.add_post("/api/v1/statuses", post_status)
    router.add_delete("/api/v1/statuses/{id}", delete_status)
    router.add_post("/api/v2/media", post_media)
    router.add_post("/api/v1/notifications/requests/{id}/accept", accept_request)
