"""Telegram: answer contacts in chat, manage subscribers, deliver announcements within limits.

Entry points: `await TelegramConnector(settings, service, store, clock).start()` runs the
conversation side (answers come from the `ConversationService`) in the background and returns
it, stoppable; `delivery(settings, store,
clock)` builds the outbox targets (the configured channel and every /abonner subscriber).
"""

import os

# PTB 22 warns on every duration it hands out as int (RetryAfter.retry_after…) unless it is
# told to use timedelta already; under `filterwarnings=error` that warning would be an error.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.connectors.telegram.api import Timeouts
from bot.connectors.telegram.connector import TelegramConnector

__all__ = ["TelegramConnector", "Timeouts"]
