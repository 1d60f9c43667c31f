"""Mastodon connector: outbox targets (announcements) and the mention answerer, per account.

Entry points: `register` (the `tnl-bot mastodon` subcommands; light to import, the CLI builds
its parser on every call) here, and in `bot.connectors.mastodon.runtime`: `connect` (one client
per configured account), `make_targets` (outbox targets) and `start` (the mention listeners:
stream, catch-up poll, answers), both given the same clients.
Configuration: `TNL_MASTODON_URL`, `TNL_MASTODON_TOKEN`, and `TNL_MASTODON_ACCOUNTS` (a YAML
file) for more accounts by name.
"""

from bot.connectors.mastodon.commands import register

__all__ = ["register"]
