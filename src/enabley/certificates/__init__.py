"""Certificates: the courses that earn them, and each connected user's derived state."""
