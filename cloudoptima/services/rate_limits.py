"""Request rate limits per subscription tier and sign-in throttling, counted in Redis (shared by replicas).

Contract:
- :class:`RateLimiter` counts a caller's requests in fixed windows: per hour against the tier's limit
  (seed §3.1: free 1,000, pro 10,000, enterprise 100,000) and per minute against a burst limit of
  ``hourly // BURST_DIVISOR`` (at least ``MIN_BURST``). A refused request is not counted, and the decision says
  how many seconds remain until the window that refused it rolls over (``retry_after``).
- :class:`LoginThrottle` counts *failed* sign-ins per account (``ACCOUNT_FAILURES`` per ``WINDOW_S``) and per
  client address (``IP_FAILURES`` per ``WINDOW_S``); while either is exhausted every attempt is refused,
  correct password or not. A successful sign-in clears the account's counter (not the address's).
- ``hit(..., deny_key=k)`` refuses (``denied``) without counting when Redis holds key ``k`` — or any of the
  keys, when given several (the gateway passes the revocation markers of the caller's token, session and
  user, ``cloudoptima.services.revocation``, so revocation and the limit cost one round trip).
- ``hit_reading(..., read_key)`` counts exactly like ``hit`` and also returns the value of ``read_key`` (None
  when absent), in the same round trip (the gateway's list cache reads the cost version so).
- ``hit_if_present(..., version_key, prefix, suffix)`` reads ``prefix + GET(version_key) + suffix`` first
  and counts (exactly like ``hit``) only when that value exists, returning it with the decision, all in
  one round trip; nothing is counted on a miss (the caller then takes its normal path, which counts).
Unknown tiers are treated as ``free``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

TIER_LIMITS: Final[dict[str, int]] = {"free": 1_000, "pro": 10_000, "enterprise": 100_000}
BURST_DIVISOR: Final = 20
MIN_BURST: Final = 10
PREFIX: Final = "cloudoptima:rl"
DenyKeys = str | Sequence[str] | None
"""One key, several keys, or none (see ``RateLimiter.hit``)."""


def hourly_limit(tier: str) -> int:
    return TIER_LIMITS.get(tier, TIER_LIMITS["free"])


def burst_limit(tier: str) -> int:
    return max(hourly_limit(tier) // BURST_DIVISOR, MIN_BURST)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int
    window: str
    denied: bool = False


# INCR both windows; if either is over its limit, undo both increments (the caller reports which refused).
_COUNT_WINDOWS = """
local h = redis.call('INCR', KEYS[1])
if h == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local m = redis.call('INCR', KEYS[2])
if m == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
if h > tonumber(ARGV[1]) or m > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  redis.call('DECR', KEYS[2])
end
"""
# ARGV[5]: the deny keys, separated by spaces ('' for none); denied when any of them exists.
_DENY_FUNCTION = """
local function denied()
  if ARGV[5] == '' then return false end
  local names = {}
  for name in string.gmatch(ARGV[5], '%S+') do names[#names + 1] = name end
  return redis.call('EXISTS', unpack(names)) > 0
end
"""
_DENIED = "denied()"

_HIT_SCRIPT = f"{_DENY_FUNCTION}if {_DENIED} then return {{-1, -1}} end{_COUNT_WINDOWS}return {{h, m}}"

# Read the versioned value first; on a miss return nothing (and count nothing); else count like _HIT_SCRIPT.
_HIT_IF_PRESENT_SCRIPT = f"""{_DENY_FUNCTION}
local version = redis.call('GET', ARGV[6]) or '0'
local value = redis.call('GET', ARGV[7] .. version .. ARGV[8])
if not value then return false end
if {_DENIED} then return {{-1, -1, value}} end{_COUNT_WINDOWS}return {{h, m, value}}
"""

# As _HIT_SCRIPT, also returning the value of ARGV[6] (false when absent), read in the same round trip.
_HIT_READING_SCRIPT = f"""{_DENY_FUNCTION}
local value = redis.call('GET', ARGV[6])
if {_DENIED} then return {{-1, -1, value}} end{_COUNT_WINDOWS}return {{h, m, value}}
"""

# INCR each key; a key's window starts at its first failure (Redis 6.2 has no EXPIRE NX).
_COUNT_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 1
"""


class RateLimiter:
    """Per-caller request limits (see module contract)."""

    def __init__(self, client: aioredis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock
        self._script = client.register_script(_HIT_SCRIPT)
        self._present_script = client.register_script(_HIT_IF_PRESENT_SCRIPT)
        self._reading_script = client.register_script(_HIT_READING_SCRIPT)

    def _window(self, caller: str, tier: str, deny_key: DenyKeys) -> tuple[int, list[str], list[str | int]]:
        now = int(self._clock())
        keys = [f"{PREFIX}:h:{caller}:{now // 3600}", f"{PREFIX}:m:{caller}:{now // 60}"]
        names = [deny_key] if isinstance(deny_key, str) else list(deny_key or ())
        if any(not name or any(c.isspace() for c in name) for name in names):
            raise ValueError("deny keys must be non-empty and contain no whitespace")
        args: list[str | int] = [hourly_limit(tier), burst_limit(tier), 3700, 70, " ".join(names)]
        return now, keys, args

    async def hit(self, caller: str, tier: str, *, deny_key: DenyKeys = None) -> Decision:
        now, keys, args = self._window(caller, tier, deny_key)
        used_hour, used_minute = (int(v) for v in await self._script(keys=keys, args=args))
        return self._decide(now, tier, used_hour, used_minute)

    async def hit_if_present(
        self,
        caller: str,
        tier: str,
        *,
        deny_key: DenyKeys,
        version_key: str,
        prefix: str,
        suffix: str,
    ) -> tuple[Decision, str] | None:
        """The stored value and the counted decision, or None (nothing counted) when it is absent."""
        now, keys, args = self._window(caller, tier, deny_key)
        found = await self._present_script(keys=keys, args=[*args, version_key, prefix, suffix])
        if not found:
            return None
        used_hour, used_minute, value = found
        return self._decide(now, tier, int(used_hour), int(used_minute)), str(value)

    async def hit_reading(
        self, caller: str, tier: str, *, deny_key: DenyKeys, read_key: str
    ) -> tuple[Decision, str | None]:
        """As :meth:`hit`, with the value of ``read_key`` (None when absent) read in the same round trip."""
        now, keys, args = self._window(caller, tier, deny_key)
        used_hour, used_minute, value = await self._reading_script(keys=keys, args=[*args, read_key])
        decision = self._decide(now, tier, int(used_hour), int(used_minute))
        return decision, None if value is None else str(value.decode() if isinstance(value, bytes) else value)

    def _decide(self, now: int, tier: str, used_hour: int, used_minute: int) -> Decision:
        hour, minute = now // 3600, now // 60
        hourly, burst = hourly_limit(tier), burst_limit(tier)
        if used_hour < 0:
            return Decision(False, hourly, 0, 0, "hour", denied=True)
        if used_hour > hourly:
            return Decision(False, hourly, 0, (hour + 1) * 3600 - now, "hour")
        if used_minute > burst:
            return Decision(False, burst, 0, (minute + 1) * 60 - now, "minute")
        return Decision(True, hourly, hourly - used_hour, 0, "hour")


class LoginThrottle:
    """Failed sign-in counters per account and per address (see module contract)."""

    ACCOUNT_FAILURES: Final = 5
    IP_FAILURES: Final = 20
    WINDOW_S: Final = 900

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._count = client.register_script(_COUNT_SCRIPT)

    @staticmethod
    def _account_key(email: str) -> str:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"{PREFIX}:login:acct:{digest}"

    @staticmethod
    def _ip_key(address: str) -> str:
        return f"{PREFIX}:login:ip:{address}"

    async def retry_after(self, email: str, address: str) -> int | None:
        """Seconds to wait when sign-in is currently refused for this account or address, else None."""
        pipe = self._client.pipeline(transaction=False)
        for key in (self._account_key(email), self._ip_key(address)):
            pipe.get(key)
            pipe.ttl(key)
        acct, acct_ttl, ip, ip_ttl = await pipe.execute()
        waits = []
        if acct is not None and int(acct) >= self.ACCOUNT_FAILURES:
            waits.append(max(int(acct_ttl), 1))
        if ip is not None and int(ip) >= self.IP_FAILURES:
            waits.append(max(int(ip_ttl), 1))
        return max(waits) if waits else None

    async def failed(self, email: str, address: str) -> None:
        keys = [self._account_key(email), self._ip_key(address)]
        await self._count(keys=keys, args=[self.WINDOW_S])

    async def succeeded(self, email: str) -> None:
        await self._client.delete(self._account_key(email))
