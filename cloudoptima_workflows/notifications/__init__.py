"""Notifications: the every-minute delivery of queued notices to their channels (retries, dead letters)."""
