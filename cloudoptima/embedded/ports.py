"""Port checks for the embedded services."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

_random = random.SystemRandom()


class PortInUseError(RuntimeError):
    """A port the platform needs is taken; the message names the port and the piece that wanted it."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def require_free(port: int, piece: str, host: str = "127.0.0.1") -> None:
    """Raise :class:`PortInUseError` naming ``piece`` when ``port`` is taken."""
    if not port_is_free(port, host):
        raise PortInUseError(f"port {port} ({piece}) is already in use; free it or choose another port")


def _ephemeral_range() -> tuple[int, int]:
    """The range the OS hands out for outgoing connections (Linux's default when it cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now and outside the OS's ephemeral range (for tests and ephemeral services).

    A port taken from the ephemeral range (``bind(0)``) can be handed by the OS to an outgoing
    connection between this call and the server binding it, and the server then fails to start;
    ports below the range are never used that way. Falls back to ``bind(0)`` when none is found.
    """
    low, _ = _ephemeral_range()
    pool_start, pool_end = (10000, low - 1) if low > 11000 else (low, 65535)
    for _ in range(200):
        candidate = _random.randint(pool_start, pool_end)
        if port_is_free(candidate, host) and _not_reserved(candidate, host):
            return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _not_reserved(port: int, host: str) -> bool:
    """True when a plain bind (no SO_REUSEADDR) succeeds too, so no connection lingers on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    """Wait until something accepts connections on ``host:port``; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
