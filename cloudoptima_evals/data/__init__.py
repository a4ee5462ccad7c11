"""The public data sets the evals score on, shipped inside the ``cloudoptima_evals`` package.

Contract:
- The data lives beside this module (``nab_dev/``, ``m4_weekly/``, ``prophet/``, each with its licence; provenance
  in ``README.md`` here) and is declared as package data in ``pyproject.toml``, so ``cloudoptima eval`` finds it
  in a source checkout, an editable install, an installed wheel and the Docker image alike — never ``tests/``.
- It is located with ``importlib.resources``. Every accessor returns a real filesystem path: pip and uv unpack
  wheels onto the filesystem; a package imported from a zip archive is refused with ``PackagedDataError``
  rather than read through a temporary copy that would vanish under the caller.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["DATASETS", "PackagedDataError", "dataset_path", "m4_weekly", "nab_dev", "prophet_csv"]

DATASETS: tuple[str, ...] = ("nab_dev", "m4_weekly", "prophet")
"""Names of the shipped data sets (directories beside this module)."""


class PackagedDataError(RuntimeError):
    """The packaged data is missing or is not on the filesystem (e.g. the package was imported from a zip)."""


def dataset_path(name: str) -> Path:
    """The directory of the shipped data set ``name`` (one of ``DATASETS``), as a filesystem path."""
    if name not in DATASETS:
        raise KeyError(f"no packaged data set {name!r}; shipped: {', '.join(DATASETS)}")
    root = files(__name__) / name
    if not isinstance(root, Path):
        raise PackagedDataError(
            f"cloudoptima_evals data set {name!r} is not on the filesystem ({root!r}); install the wheel unpacked"
        )
    if not root.is_dir():
        raise PackagedDataError(f"cloudoptima_evals data set {name!r} is missing from {root}")
    return root


def nab_dev() -> Path:
    """The NAB development split: 28 labelled series in four folders and ``windows.json`` (numenta/NAB, MIT)."""
    return dataset_path("nab_dev")


def m4_weekly() -> Path:
    """Every 6th M4 weekly series (60): ``Weekly-train.csv`` and ``Weekly-test.csv`` (M4 competition data)."""
    return dataset_path("m4_weekly")


def prophet_csv() -> Path:
    """The Peyton Manning log page-views series of Prophet's examples (``ds``, ``y``; facebook/prophet, MIT)."""
    return dataset_path("prophet") / "example_wp_log_peyton_manning.csv"
