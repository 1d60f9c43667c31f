"""The label's time zone: campaign dates are Paris calendar days, and a moment typed without an
offset (`--now`, the calendar file) is Paris time.

A module of its own so that the clock and the campaign calendar can both use it without one
importing the other.
"""

from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
