"""How long stored text may be. The columns are declared with these lengths, and the wire models
and query parameters take their limits from here: a limit is written once."""

TEXT_LENGTH = 255
"""Identifiers, names, usernames, phone numbers, sub-account names."""

EMAIL_LENGTH = 320
"""An address of RFC 5321's longest: 64 characters, "@", 255."""

LOCATION_LENGTH = 1024
"""A training event's location."""
