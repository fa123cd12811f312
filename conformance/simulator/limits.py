"""The reference server's own limits: what it accepts from callers and how much it keeps.

All the numbers in one place. The customer side needs no login, so everything it stores is bounded
here; an agent's session is authenticated, but sessions are bounded too. Lengths count Unicode code
points (profile section 2). A value beyond a limit gets statusCode 2 (invalid parameter); a start
that would exceed what the server keeps gets statusCode 3 (forbidden), never a 5xx. Customer message
text follows the profile's `max_text_length` (4096 in the default profile).
"""

from __future__ import annotations

# -- customer side (section 5): one form -------------------------------------------------------------
MAX_FORM_BYTES = 64 * 1024  # the whole form-encoded body of a customer request, as sent
MAX_NICKNAME_LENGTH = 256
MAX_SUBJECT_LENGTH = 256
MAX_USER_DATA_KEYS = 32
MAX_USER_DATA_KEY_LENGTH = 256
MAX_USER_DATA_VALUE_LENGTH = 4096

# -- what the server keeps ---------------------------------------------------------------------------
MAX_LIVE_CHATS = 10_000
"""Chats kept at once. A new start beyond it frees the oldest chats that are over for everyone (the
customer left or the chat ended, and no agent is invited or taking part); if none is, it is refused."""
MAX_STORED_UNITS = 32 * 1024 * 1024
"""The budget of all kept chats: the code points of their customer fields and message texts, plus
EVENT_UNITS per event. Past it, the oldest finished chats are freed; a customer start or message that
still does not fit is refused (statusCode 3)."""
EVENT_UNITS = 64
MAX_SESSIONS = 10_000
"""Agent HTTP sessions kept at once; the oldest is forgotten first (its agent logs in again with Basic)."""

# -- `serve` -----------------------------------------------------------------------------------------
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
SERVE_PASSWORD_ENV = "GWS_CONFORMANCE_SERVE_PASSWORD"
