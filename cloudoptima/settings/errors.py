"""The one error every settings part raises."""

from __future__ import annotations


class SettingsError(RuntimeError):
    """A configuration value is missing, unsafe or unreadable; the message names the variable or file."""
