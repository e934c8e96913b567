"""enabley: a self-hostable server for the Enabley LMS integration API."""

__version__ = "0.1.0"
