"""The change log, the change feed and the events time makes (certificates expiring)."""
