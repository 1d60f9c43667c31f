"""Kept for `bot.assembly` until it builds a plain `DeliveryWorker`; then delete this module.

The stock worker now does what this subclass used to add for thousands of one-item chat
targets: it claims due items across targets in one transaction, publishes to several targets
at once, writes outcomes in batches, and takes new targets with `add_target`.
"""

from __future__ import annotations

from bot.outbox.worker import DeliveryWorker


class TelegramWorker(DeliveryWorker):
    """Deprecated alias of `DeliveryWorker` (same constructor)."""
