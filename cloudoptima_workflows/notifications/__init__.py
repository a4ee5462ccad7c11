"""Notifications: the every-minute delivery of queued notices to their channels (retries, dead letters), and
the every-15-minute pass of per-user daily/weekly digests (``SendDigests``)."""
