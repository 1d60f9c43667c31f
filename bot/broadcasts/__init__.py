"""Organisers' broadcasts: previewed, confirmed by the same organiser in time, then delivered
through the outbox exactly as previewed (application layer)."""
