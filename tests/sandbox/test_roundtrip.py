"""write_estate → load_estate gives the same estate; utilisation reads back exactly."""

from __future__ import annotations

import math
from pathlib import Path

from cloudoptima.clouds.sandbox import Estate, load_estate, read_utilisation, utilisation_series, write_estate
from cloudoptima.domain.inventory import ResourceKind


def test_load_returns_the_written_estate(estate: Estate, written: Path) -> None:
    assert load_estate(written) == estate


def test_rewriting_a_loaded_estate_gives_the_same_bytes(
    estate: Estate, written: Path, tmp_path: Path
) -> None:
    write_estate(load_estate(written), tmp_path)
    for path in sorted(p for p in written.rglob("*") if p.is_file()):
        assert (tmp_path / path.relative_to(written)).read_bytes() == path.read_bytes(), path


def test_utilisation_reads_back_hour_by_hour(estate: Estate, written: Path) -> None:
    for kind in (ResourceKind.COMPUTE_INSTANCE, ResourceKind.LOAD_BALANCER, ResourceKind.DISK):
        resource = next(r for r in estate.resources if r.kind is kind)
        stored = {s.metric: s for s in read_utilisation(written, resource.resource_id)}
        computed = {s.metric: s for s in utilisation_series(estate, resource.resource_id)}
        assert stored.keys() == computed.keys() and stored
        for metric, series in computed.items():
            assert stored[metric].start == series.start
            assert len(stored[metric].values) == len(series.values) == estate.spec.days * 24
            for got, want in zip(stored[metric].values, series.values, strict=True):
                assert (got is None and want is None) or (
                    got is not None and want is not None and math.isclose(got, want)
                )
