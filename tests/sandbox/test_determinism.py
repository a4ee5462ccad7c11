"""Same seed → byte-identical files; different seed → different estate."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cloudoptima.clouds.sandbox import generate_estate, write_estate


def _digests(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    write_estate(generate_estate(7, accounts=3, days=35), tmp_path / "a")
    write_estate(generate_estate(7, accounts=3, days=35), tmp_path / "b")
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(first) > 5
    assert first == second


def test_different_seed_gives_a_different_estate(tmp_path: Path) -> None:
    write_estate(generate_estate(7, accounts=3, days=35), tmp_path / "a")
    write_estate(generate_estate(8, accounts=3, days=35), tmp_path / "b")
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    for name in ("inventory.json", "manifest.json", "iam.json", "utilisation.parquet"):
        assert first[name] != second[name]


def test_a_small_estate_is_a_prefix_of_a_larger_one_with_the_same_seed() -> None:
    small, large = generate_estate(11, accounts=2, days=40), generate_estate(11, accounts=5, days=40)
    assert large.accounts[:2] == small.accounts
    assert [r for r in large.resources if r.account_id in {a.account_id for a in small.accounts}] == list(
        small.resources
    )


def test_default_shape_is_six_accounts_two_per_cloud() -> None:
    estate = generate_estate()
    assert len(estate.accounts) == 6
    assert sorted(a.provider.value for a in estate.accounts) == ["aws", "aws", "azure", "azure", "gcp", "gcp"]
    assert estate.spec.days == 120
