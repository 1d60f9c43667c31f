"""Mastodon connector against the fake server."""
