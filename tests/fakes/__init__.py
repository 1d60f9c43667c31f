"""In-process fake servers speaking the platforms' HTTP APIs on 127.0.0.1."""
