"""Names the tests of several packages share."""

CAL_AUD = "https://api.example.com/calendar/v1/"
GEO_AUD = "https://api.example.com/geocoding/v1/"
NOTES_AUD = "https://api.example.com/notes/v1/"
EVENTS = "/calendar/v1/events"
NOW = 1_800_000_000.0
"""A fixed wall-clock time for claim tests, so boundaries are exact."""
CI = __import__("os").environ.get("CI", "").lower() == "true"
