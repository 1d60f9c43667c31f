"""Durable store: outbox, subscribers, platform cursors, audit log, unanswered questions.

`Store` lives in bot.store.store; this package re-exports nothing so that importing a light
module of it (the CLI registration) does not load SQLAlchemy.
"""
