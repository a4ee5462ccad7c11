"""Instance family names per cloud, as the price lists store them and price refreshes ask for them.

Plain string rules with no SDK behind them (the cloud packages' ``__init__`` load their SDKs, which a price
refresh planning its scope does not need): ``m5.large`` → ``m5``; ``Standard_D4s_v5`` → ``Dsv5`` and
``Standard_B2ms`` → ``B`` (the sandbox catalogue's names); ``n2-standard-4`` → ``n2``,
``n2-highmem-8`` → ``n2-highmem``, ``e2-medium`` → ``e2``, ``custom-4-16384`` → ``n1``. None when a name has
no family.
"""

from __future__ import annotations

import re

_AZURE_VM = re.compile(r"^Standard_([A-Z]+)(\d+)([a-z]*)(?:_v(\d+))?$")
_GCP_SHAPED = re.compile(r"^([a-z0-9]+)-(standard|highmem|highcpu)-(\d+)$")


def aws_family(instance_type: str) -> str | None:
    """``m5.large`` → ``m5``."""
    prefix, dot, _ = instance_type.partition(".")
    return prefix if dot and prefix else None


def azure_family(size: str) -> str | None:
    """``Standard_D4s_v5`` → ``Dsv5``; ``Standard_B2ms`` → ``B``."""
    match = _AZURE_VM.match(size)
    if match is None:
        return None
    series, _, suffix, version = match.groups()
    return f"{series}{suffix}v{version}" if version else series


def gcp_family(machine_type: str) -> str | None:
    """``n2-standard-4`` → ``n2``; ``n2-highmem-8`` → ``n2-highmem``; shared-core and custom types by prefix."""
    shaped = _GCP_SHAPED.match(machine_type)
    if shaped is not None:
        family, shape = shaped.group(1), shaped.group(2)
        return family if shape == "standard" else f"{family}-{shape}"
    if machine_type.startswith("custom-"):
        return "n1"
    return machine_type.split("-", 1)[0] or None
