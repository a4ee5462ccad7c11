"""The real Google JSON error envelope, and list paging by offset tokens, shared by the REST fakes."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.body = {
            "error": {
                "code": code,
                "message": message,
                "status": status,
                "errors": [{"message": message, "domain": "global", "reason": reason or status.lower()}],
            }
        }
        self.code = code


def page(items: list[Any], token: str, size: int) -> tuple[list[Any], str | None]:
    start = int(token or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
