"""Withdrawing a publication from a Mastodon account: deleting every status of its thread.

The outbox's receipt of a thread lists its status ids (`receipt_status_ids`). They are deleted
the replies first, so that whatever is left after an interruption is still a readable thread
from its start. Mastodon allows 30 deletions per 30 minutes per account: the client's budget
paces them and refuses (`Throttled`) before the server would; the caller retries later.

Mastodon counts a DELETE against that limit even when it answers 404. A retry that deleted
again what is gone would spend the budget on nothing, and a thread longer than 30 statuses
would never get past its first 30: each status is looked at first (a GET, which only the
general 300 requests / 5 min count), and deleted only if it is still there.
"""

from __future__ import annotations

from collections.abc import Callable

from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError

from bot import texts
from bot.connectors.mastodon.client import MastodonClient, delivery_error
from bot.connectors.mastodon.target import receipt_status_ids
from bot.outbox.target import RetryableError


async def delete_thread(client: MastodonClient, receipt: str) -> str:
    """The outcome for the organiser; raises `RetryableError` when trying later can help
    (pacing, 429, network, 5xx), having deleted what it could."""
    ids = receipt_status_ids(receipt)
    if not ids:
        return texts.NOTHING_TO_WITHDRAW
    deleted = 0
    for status_id in reversed(ids):
        try:
            await client.call(_getter(status_id))
            await client.call(_deleter(status_id), deletes=1)
        except MastodonNotFoundError:
            continue  # deleted already: by an earlier attempt, or by hand
        except Exception as error:
            failure = delivery_error(error, client)
            if isinstance(failure, RetryableError):
                raise failure from error
            return texts.WITHDRAW_REFUSED.format(platform="Mastodon", reason=failure.reason)
        deleted += 1
    return texts.WITHDRAWN if deleted else texts.ALREADY_WITHDRAWN


def _getter(status_id: str) -> Callable[[Mastodon], object]:
    def work(api: Mastodon) -> object:
        return api.status(status_id)

    return work


def _deleter(status_id: str) -> Callable[[Mastodon], object]:
    def work(api: Mastodon) -> object:
        return api.status_delete(status_id)

    return work
