"""tnl-bot: the chat-ops bot of the Territoire Numérique Libre label."""
