"""Which platforms the bot can speak on: one entry per platform, its connectors' factory.

Adding a platform (Matrix, a web chat) is writing its connector package and one line here; the
assembly, the outbox and the conversation service learn of it through the contract
(`bot.conversation.connector`). Factories are imported when called, so that `tnl-bot reload`
or a platform that is not configured never loads the others' libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from bot.conversation.connector import Connector, ConnectorFactory, Parts


async def _telegram(parts: Parts) -> Sequence[Connector]:
    from bot.connectors.telegram.platform import connectors

    return await connectors(parts)


async def _mastodon(parts: Parts) -> Sequence[Connector]:
    from bot.connectors.mastodon.platform import connectors

    return await connectors(parts)


PLATFORMS: MappingProxyType[str, ConnectorFactory] = MappingProxyType(
    {"telegram": _telegram, "mastodon": _mastodon}
)
