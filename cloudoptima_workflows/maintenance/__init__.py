"""Maintenance: weekly cleanup of expired auth bookkeeping (the spec's cleanup beat task) and the audit log's
retention prune."""
