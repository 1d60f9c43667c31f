"""JSON entities of the fake Mastodon, shaped like a real 4.6 server's (see the conformance test).

Plain functions over plain dicts: the server keeps its state in these dicts and serialises them
as they are, so what a test asserts on is exactly what the client received.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

Json = dict[str, Any]
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)»]")
TOKEN = re.compile(
    r"(https?://[^\s<>\"]*[^\s<>\".,;:!?)»])|(?<![\w/])#(\w+)|(?<![\w/])@([\w.]+)(?:@([\w.-]+\w))?"
)


def stamp(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def account(base: str, account_id: str, username: str, *, bot: bool, now: dt.datetime) -> Json:
    return {
        "id": account_id,
        "username": username,
        "acct": username,
        "display_name": "",
        "locked": False,
        "bot": bot,
        "discoverable": None,
        "indexable": False,
        "group": False,
        "created_at": stamp(now.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": "",
        "url": f"{base}/@{username}",
        "uri": f"{base}/ap/users/{account_id}",
        "avatar": f"{base}/avatars/original/missing.png",
        "avatar_static": f"{base}/avatars/original/missing.png",
        "avatar_description": "",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "header_description": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": None,
        "hide_collections": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": False,
        "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def credential_account(entity: Json) -> Json:
    """verify_credentials / update_credentials: the account plus its `source` and `role`."""
    return {
        **entity,
        "source": {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": html_to_plain(entity["note"]),
            "fields": [
                {k: f[k] for k in ("name", "value", "verified_at")} for f in entity["fields"]
            ],
            "follow_requests_count": 0,
            "hide_collections": None,
            "discoverable": None,
            "indexable": False,
            "attribution_domains": [],
            "quote_policy": "public",
        },
        "role": {
            "id": "-99",
            "name": "",
            "permissions": "65536",
            "color": "",
            "highlighted": False,
            "collection_limit": 10,
        },
    }


def html_to_plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def render(text: str, base: str, mentioned: dict[str, Json]) -> tuple[str, list[Json]]:
    """Plain text → Mastodon's HTML: paragraphs, line breaks, links with hidden parts, hashtags
    and h-card mentions; returns the HTML and the `tags`."""
    tags: list[Json] = []

    def token(match: re.Match[str]) -> str:
        url, tag, user = match.group(1), match.group(2), match.group(3)
        if url:
            scheme, _, rest = url.partition("://")
            shown, hidden = rest[:30], rest[30:]
            ellipsis = ' class="ellipsis"' if hidden else ""
            return (
                f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" '
                f'translate="no"><span class="invisible">{scheme}://</span>'
                f"<span{ellipsis}>{html.escape(shown)}</span>"
                f'<span class="invisible">{html.escape(hidden)}</span></a>'
            )
        if tag:
            tags.append({"name": tag.casefold(), "url": f"{base}/tags/{tag.casefold()}"})
            return (
                f'<a href="{base}/tags/{tag.casefold()}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(tag)}</span></a>"
            )
        if user in mentioned:
            return (
                f'<span class="h-card" translate="no"><a href="{base}/@{user}" '
                f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
            )
        return html.escape(match.group(0))

    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for match in TOKEN.finditer(paragraph):
            pieces.append(html.escape(paragraph[last : match.start()]))
            pieces.append(token(match))
            last = match.end()
        pieces.append(html.escape(paragraph[last:]))
        paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
    return "".join(paragraphs), tags


def status(
    base: str,
    status_id: str,
    author: Json,
    form: dict[str, Any],
    *,
    content: str,
    tags: list[Json],
    mentions: list[Json],
    media: list[Json],
    reply_to: Json | None,
    now: dt.datetime,
) -> Json:
    return {
        "id": status_id,
        "created_at": stamp(now),
        "in_reply_to_id": reply_to["id"] if reply_to else None,
        "in_reply_to_account_id": reply_to["account"]["id"] if reply_to else None,
        "sensitive": form.get("sensitive") in ("1", "true", "True")
        or bool(form.get("spoiler_text")),
        "spoiler_text": form.get("spoiler_text") or "",
        "visibility": form.get("visibility") or "public",
        "language": form.get("language") or "en",
        "uri": f"{base}/ap/users/{author['id']}/statuses/{status_id}",
        "url": f"{base}/@{author['username']}/{status_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": {"name": "tnl-bot", "website": None},
        "account": author,
        "media_attachments": media,
        "mentions": [
            {"id": m["id"], "username": m["username"], "url": m["url"], "acct": m["acct"]}
            for m in mentions
        ],
        "tags": tags,
        "emojis": [],
        "tagged_collections": [],
        "quote": None,
        "card": None,
        "poll": None,
        "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
    }


def media(base: str, media_id: str, description: str | None, filename: str) -> Json:
    return {
        "id": media_id,
        "type": "image",
        "url": f"{base}/system/media_attachments/files/{media_id}/original/{filename}",
        "preview_url": f"{base}/system/media_attachments/files/{media_id}/small/{filename}",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": {"width": 1, "height": 1, "size": "1x1", "aspect": 1.0}},
        "description": description,
        "blurhash": "L00000fQfQfQfQfQfQfQfQfQfQfQ",
    }


def notification(
    notification_id: str, kind: str, source: Json, item: Json, now: dt.datetime
) -> Json:
    return {
        "id": notification_id,
        "type": kind,
        "created_at": stamp(now),
        "group_key": f"ungrouped-{notification_id}",
        "account": source,
        "status": item,
    }


POLLS = {
    "max_options": 4,
    "max_characters_per_option": 50,
    "min_expiration": 300,
    "max_expiration": 2629746,
}


def instance_v2(base: str, max_characters: int) -> Json:
    domain = base.split("://", 1)[1]
    return {
        "domain": domain,
        "title": "Fake Mastodon",
        "version": "4.6.4",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "",
        "usage": {"users": {"active_month": 1}},
        "thumbnail": {"url": f"{base}/preview.png", "description": ""},
        "icon": [],
        "languages": ["fr", "en"],
        "configuration": {
            "urls": {
                "streaming": f"ws://{domain}",
                "status": None,
                "about": f"{base}/about",
                "privacy_policy": f"{base}/privacy-policy",
                "terms_of_service": None,
            },
            "vapid": {"public_key": ""},
            "accounts": {
                "max_display_name_length": 30,
                "max_note_length": 500,
                "max_avatar_description_length": 150,
                "max_header_description_length": 150,
                "max_featured_tags": 10,
                "max_pinned_statuses": 5,
                "max_profile_fields": 4,
                "profile_field_name_limit": 255,
                "profile_field_value_limit": 255,
            },
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "description_limit": 1500,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "image_size_limit": 16777216,
                "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            },
            "polls": POLLS,
            "translation": {"enabled": False},
            "timelines_access": {
                feed: {"local": "public", "remote": "public"}
                for feed in ("live_feeds", "hashtag_feeds", "trending_link_feeds")
            },
            "limited_federation": False,
        },
        "registrations": {
            "enabled": False,
            "approval_required": False,
            "reason_required": False,
            "message": None,
            "min_age": None,
            "url": None,
        },
        "api_versions": {"mastodon": 11},
        "wrapstodon": None,
        "contact": {"email": "", "account": None},
        "rules": [],
    }


def instance_v1(base: str, max_characters: int) -> Json:
    domain = base.split("://", 1)[1]
    return {
        "uri": domain,
        "title": "Fake Mastodon",
        "short_description": "",
        "description": "",
        "email": "",
        "version": "4.6.4",
        "urls": {"streaming_api": f"ws://{domain}"},
        "stats": {"user_count": 1, "status_count": 0, "domain_count": 0},
        "thumbnail": f"{base}/preview.png",
        "languages": ["fr", "en"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": ["image/png"],
                "image_size_limit": 16777216,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": POLLS,
        },
        "contact_account": None,
        "rules": [],
    }
