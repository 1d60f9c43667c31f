"""Laureates of an edition: the organisers' file validated, rendered for each platform, keyed
for the outbox, and used to answer « X a-t-elle été labellisée ? ».

Pure domain code: it reads the one file it is given and nothing else; the application layer
previews, confirms and enqueues what it returns.
"""
