"""The application layer's conversation: one service that answers every platform.

Connectors translate a platform's updates into `Incoming` values, hand them to the
`ConversationService`, and translate the `Reply` it returns back into the platform's messages.
What to answer, which commands exist on which platform, who may run them and what they change is
decided here, once, and tested with no network.
"""

from bot.conversation.identity import Identity, Roles
from bot.conversation.lanes import Lanes
from bot.conversation.messages import Attachment, Capabilities, Incoming, Reply
from bot.conversation.service import ConversationService

__all__ = [
    "Attachment",
    "Capabilities",
    "ConversationService",
    "Identity",
    "Incoming",
    "Lanes",
    "Reply",
    "Roles",
]
