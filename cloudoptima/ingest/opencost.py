"""OpenCost allocation exports -> FOCUS-named cost rows: Kubernetes cost by namespace, workload and label.

Two shapes are read (see ``tests/fixtures/opencost/README.md`` for where each comes from):
- the CSV export (``opencost`` "cost export", ``pkg/costmodel/csv_export.go``): ``Date, Namespace,
  ControllerKind, ControllerName, Pod, Container, Labels`` (a JSON object), usage columns and
  ``CPUCost, RAMCost, NetworkCost, PVCost, GPUCost, TotalCost``; optional ``Cluster``, ``Node``,
  ``LoadBalancerCost``, ``SharedCost``, ``ExternalCost`` and ``WindowStart``/``WindowEnd`` are used when present;
- the ``/allocation`` (``/allocation/compute``) API JSON: ``{"code": 200, "data": [{"<name>": {"name",
  "properties": {"cluster", "node", "namespace", "controllerKind", "controller", "pod", "container",
  "labels"}, "window": {"start", "end"}, "cpuCost", "gpuCost", "ramCost", "pvCost", "networkCost",
  "loadBalancerCost", "sharedCost", "externalCost", "totalCost", …}, "__idle__": {…}}, …]}`` (one map per
  step; a bare list of such maps or a single map is accepted too). The whole JSON document is parsed at once
  (API answers are bounded by their window and step); CSV files are streamed.

Contract (one allocation = one cost row; OpenCost has no currency, so ``currency`` is a parameter, default
``USD``, and must be an ISO 4217 national currency):
- Money: ``BilledCost`` = ``EffectiveCost`` = ``TotalCost`` (``totalCost``) exactly as written (its decimal
  digits kept, exponents expanded; JSON numbers are read as decimals, never floats), so the file's total is
  the sum of ``TotalCost``. The components (cpu, gpu, ram, pv, network, load balancer, shared, external) are
  kept per row in ``extensions`` (``x_opencost_cpu_cost`` …) and named in ``ChargeDescription``; they are not
  separate rows (OpenCost's total includes adjustments and float rounding, so components need not add up to it
  exactly).
- Time: ``ChargePeriodStart``/``End`` from ``WindowStart``/``WindowEnd`` (CSV) or ``window`` (JSON), else
  the CSV ``Date`` as one UTC day ``[Date, Date + 1 day)``; the billing period is the UTC calendar month of
  the start.
- Who: ``ProviderName`` ``Kubernetes``, ``PublisherName`` ``OpenCost``, provider code ``other``;
  ``BillingAccountId``/``SubAccountId`` = the cluster when the file names one (else BillingAccountId is
  ``kubernetes`` and SubAccountId null); ``ServiceCategory`` ``Compute``;
  ``ServiceName`` ``Kubernetes``, except the special allocations, which are their own lines: ``__idle__``
  -> ``Kubernetes idle capacity``, ``__unallocated__`` -> ``Kubernetes unallocated``, ``__unmounted__`` ->
  ``Kubernetes unmounted volumes`` (their ``k8s_namespace`` tag is that name when the allocation has none).
- Tags (the key scheme allocation rules and tag policies use; keys are already normalised spellings):
  ``k8s_cluster``, ``k8s_node``, ``k8s_namespace``, ``k8s_controller_kind``, ``k8s_controller``, ``k8s_pod``,
  ``k8s_container`` and one ``k8s_label_<label>`` per Kubernetes label (the label name as OpenCost writes it,
  e.g. ``k8s_label_app_kubernetes_io_name``). Empty values are left out.
- ``ResourceId`` is ``cluster/namespace/pod/container`` (the parts present), else the allocation's name;
  ``ResourceType`` is ``Kubernetes container``, ``Kubernetes pod``, ``Kubernetes namespace`` or the special
  line's service name.
- Strict: OpenCost files are machine-written, so a bad value (missing or non-numeric ``TotalCost``, a
  non-numeric component, an unreadable date, ``Labels`` that is not a JSON object, a window that does not end
  after it starts, a NUL character) raises ``BillingFileError`` naming the file, the line (CSV; the allocation's position for
  JSON, where the column names the JSON path) and the column; the caller's transaction writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.raw_csv import RawBatch, is_gzip
from cloudoptima.ingest.requirements_model import load_model
from cloudoptima.ingest.source_columns import column_key

SERVICE = "Kubernetes"
UNNAMED_CLUSTER = "kubernetes"
"""BillingAccountId of rows whose file names no cluster (the CSV export has no cluster column)."""
SPECIAL_LINES: dict[str, str] = {
    "__idle__": "Kubernetes idle capacity",
    "__unallocated__": "Kubernetes unallocated",
    "__unmounted__": "Kubernetes unmounted volumes",
}
"""OpenCost's special allocation names -> the service line they are shown as."""

COMPONENTS: tuple[tuple[str, str, str], ...] = (
    # (extension suffix, CSV header, JSON field)
    ("cpu", "CPUCost", "cpuCost"),
    ("gpu", "GPUCost", "gpuCost"),
    ("ram", "RAMCost", "ramCost"),
    ("pv", "PVCost", "pvCost"),
    ("network", "NetworkCost", "networkCost"),
    ("load_balancer", "LoadBalancerCost", "loadBalancerCost"),
    ("shared", "SharedCost", "sharedCost"),
    ("external", "ExternalCost", "externalCost"),
)
TAG_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    # (tag key, CSV header, JSON property)
    ("k8s_cluster", "Cluster", "cluster"),
    ("k8s_node", "Node", "node"),
    ("k8s_namespace", "Namespace", "namespace"),
    ("k8s_controller_kind", "ControllerKind", "controllerKind"),
    ("k8s_controller", "ControllerName", "controller"),
    ("k8s_pod", "Pod", "pod"),
    ("k8s_container", "Container", "container"),
)
LABEL_PREFIX = "k8s_label_"

OUTPUT_COLUMNS: tuple[str, ...] = (
    "billed_cost",
    "effective_cost",
    "billing_currency",
    "charge_category",
    "charge_description",
    "charge_period_start",
    "charge_period_end",
    "billing_period_start",
    "billing_period_end",
    "billing_account_id",
    "billing_account_name",
    "sub_account_id",
    "sub_account_name",
    "provider_name",
    "publisher_name",
    "service_category",
    "service_name",
    "resource_id",
    "resource_name",
    "resource_type",
    "tags",
    "extensions",
)
"""The canonical (snake_case FOCUS) columns of every ``RawBatch`` this reader yields, plus ``extensions``."""

SOURCE_NAMES: dict[str, str] = {
    "billed_cost": "TotalCost",
    "effective_cost": "TotalCost",
    "charge_period_start": "Date",
    "charge_period_end": "Date",
    "tags": "Labels",
}
"""FOCUS column -> the OpenCost column it is read from (named by validation messages)."""


def is_opencost_header(header: Sequence[str]) -> bool:
    """True for the header of an OpenCost CSV export (``Namespace``, ``TotalCost`` and ``Date`` or a window)."""
    keys = {column_key(name) for name in header}
    return {"namespace", "totalcost"} <= keys and bool(keys & {"date", "windowstart"})


def is_json(path: Path) -> bool:
    """True when the file's first non-blank byte (after a UTF-8 BOM) opens a JSON object or array."""
    if is_gzip(path):
        return False
    with path.open("rb") as handle:
        head = handle.read(512).removeprefix(b"\xef\xbb\xbf").lstrip()
    return head[:1] in (b"{", b"[")


def check_currency(currency: str, file: str) -> str:
    """``currency`` upper-cased when it is an ISO 4217 national currency; else ``BillingFileError``."""
    code = currency.strip().upper()
    if code not in load_model().currencies:
        raise BillingFileError(
            file, f"currency {currency!r} is not an ISO 4217 currency code", column="currency"
        )
    return code


@dataclass(frozen=True, slots=True)
class _Where:
    file: str
    line: int | None
    prefix: str  # JSON path prefix ("" for CSV)

    def error(self, column: str, message: str) -> BillingFileError:
        return BillingFileError(self.file, message, line=self.line, column=self.prefix + column)


def _money(value: object, where: _Where, column: str, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise where.error(column, "missing value: an OpenCost allocation needs its total cost")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise where.error(column, f"not a number: {value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise where.error(column, f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise where.error(column, f"not a finite number: {value!r}")
    return format(amount, "f")


def _instant(value: object, where: _Where, column: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise where.error(column, f"missing or unreadable time: {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            parsed_day = date.fromisoformat(text)
            return datetime(parsed_day.year, parsed_day.month, parsed_day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise where.error(column, f"not a date or RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(moment: datetime) -> tuple[datetime, datetime]:
    first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return first, following


@dataclass(frozen=True, slots=True)
class Allocation:
    """One OpenCost allocation, read but not yet checked (values as the file has them)."""

    name: str
    properties: Mapping[str, object]
    labels: object
    start: object
    end: object
    day: object
    total: object
    components: Mapping[str, object]


def allocation_row(
    allocation: Allocation, currency: str, where: _Where, labels_column: str
) -> dict[str, str | None]:
    """The canonical text row of one allocation (see the module docstring); raises ``BillingFileError``."""
    total = _money(allocation.total, where, "TotalCost" if not where.prefix else "totalCost", required=True)
    extensions: dict[str, str] = {}
    parts: list[str] = []
    for suffix, csv_name, json_name in COMPONENTS:
        column = json_name if where.prefix else csv_name
        amount = _money(allocation.components.get(suffix), where, column, required=False)
        if amount is not None:
            extensions[f"x_opencost_{suffix}_cost"] = amount
            parts.append(f"{suffix.replace('_', ' ')} {amount}")
    if allocation.start is not None or allocation.end is not None:
        start_column, end_column = (
            ("window.start", "window.end") if where.prefix else ("WindowStart", "WindowEnd")
        )
        start = _instant(allocation.start, where, start_column)
        end = _instant(allocation.end, where, end_column)
        if end <= start:
            raise where.error(end_column, f"{end_column} must be after {start_column}")
    else:
        start = _instant(allocation.day, where, "Date")
        end = start + timedelta(days=1)
    tags: dict[str, str] = {}
    for key, _csv_name, json_name in TAG_PROPERTIES:
        value = allocation.properties.get(json_name)
        if value is not None and str(value).strip():
            tags[key] = str(value).strip()
    labels = allocation.labels
    if isinstance(labels, str):
        text = labels.strip()
        try:
            labels = json.loads(text) if text else {}
        except ValueError:
            raise where.error(labels_column, f"not a JSON object of labels: {text[:80]!r}") from None
    if labels is None:
        labels = {}
    if not isinstance(labels, dict):
        raise where.error(labels_column, "not a JSON object of labels")
    for label, value in labels.items():
        if value is not None and not isinstance(value, dict | list) and str(value) != "":
            tags[LABEL_PREFIX + str(label)] = str(value)
    name = allocation.name
    special = next((line for marker, line in SPECIAL_LINES.items() if marker in name.split("/")), None)
    if special is None:
        special = next(
            (
                SPECIAL_LINES[v]
                for v in (tags.get("k8s_namespace"), tags.get("k8s_pod"))
                if v in SPECIAL_LINES
            ),
            None,
        )
    if special is not None:
        marker = next(m for m, line in SPECIAL_LINES.items() if line == special)
        tags.setdefault("k8s_namespace", marker)
    path = [tags[k] for k in ("k8s_cluster", "k8s_namespace", "k8s_pod", "k8s_container") if k in tags]
    resource_id = "/".join(path) or name or None
    if special is not None:
        resource_type = special
    elif "k8s_container" in tags:
        resource_type = "Kubernetes container"
    elif "k8s_pod" in tags:
        resource_type = "Kubernetes pod"
    else:
        resource_type = "Kubernetes namespace"
    resource_name = next(
        (tags[k] for k in ("k8s_container", "k8s_pod", "k8s_controller", "k8s_namespace") if k in tags), name
    )
    if name:
        extensions["x_opencost_name"] = name
    billing_start, billing_end = _month(start)
    cluster = tags.get("k8s_cluster")
    return {
        "billed_cost": total,
        "effective_cost": total,
        "billing_currency": currency,
        "charge_category": "Usage",
        "charge_description": "OpenCost allocation" + (f": {', '.join(parts)}" if parts else ""),
        "charge_period_start": _iso(start),
        "charge_period_end": _iso(end),
        "billing_period_start": _iso(billing_start),
        "billing_period_end": _iso(billing_end),
        "billing_account_id": cluster or UNNAMED_CLUSTER,
        "billing_account_name": cluster or UNNAMED_CLUSTER,
        "sub_account_id": cluster,
        "sub_account_name": cluster,
        "provider_name": "Kubernetes",
        "publisher_name": "OpenCost",
        "service_category": "Compute",
        "service_name": special or SERVICE,
        "resource_id": resource_id,
        "resource_name": resource_name,
        "resource_type": resource_type,
        "tags": json.dumps(tags, sort_keys=True, ensure_ascii=False) if tags else None,
        "extensions": json.dumps(extensions, sort_keys=True) if extensions else None,
    }


def _table(rows: list[dict[str, str | None]], lines: list[int]) -> RawBatch:
    arrays = [pa.array([row[name] for row in rows], pa.string()) for name in OUTPUT_COLUMNS]
    return RawBatch(pa.Table.from_arrays(arrays, names=list(OUTPUT_COLUMNS)), pa.array(lines, pa.int64()))


class OpenCostReader:
    """Streams an OpenCost CSV export or reads an allocation API JSON answer; see the module docstring.

    ``names`` are the source column names (CSV header, or the JSON fields used); ``batches()`` yields
    ``RawBatch`` objects in the canonical columns of ``OUTPUT_COLUMNS`` (lines: CSV physical lines, or the
    1-based position of the allocation in the JSON document).
    """

    def __init__(self, path: Path, batch_rows: int, currency: str = "USD") -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.currency = check_currency(currency, str(path))
        self.json = is_json(path)
        if self.json:
            self._document = self._load_json()
            self.names: tuple[str, ...] = ("name", "properties", "window", "totalCost")
        else:
            with self._open_text() as handle:
                header = next(csv.reader(handle), None)
            if not header:
                raise BillingFileError(str(path), "empty file: no header and no rows", line=1)
            self.names = tuple(cell.strip().removeprefix("\ufeff") for cell in header)
            if not is_opencost_header(self.names):
                raise BillingFileError(
                    str(path),
                    "not an OpenCost allocation export: the header needs Namespace, TotalCost and Date "
                    "(or WindowStart)",
                    line=1,
                    column="TotalCost",
                )

    def _open_text(self) -> io.TextIOWrapper:
        import gzip

        # the wrapper owns the binary handle: closing it (callers use ``with``) closes both
        raw = gzip.open(self.path, "rb") if is_gzip(self.path) else self.path.open("rb")  # noqa: SIM115
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def _load_json(self) -> list[tuple[str, str, Mapping[str, Any]]]:
        file = str(self.path)
        try:
            document = json.loads(self.path.read_bytes().decode("utf-8-sig"), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BillingFileError(file, f"not a JSON document: {exc}") from None
        steps: object = (
            document.get("data") if isinstance(document, dict) and "data" in document else document
        )
        if isinstance(document, dict) and document.get("code") not in (None, 200):
            raise BillingFileError(file, f"OpenCost answered code {document.get('code')}", column="code")
        if isinstance(steps, dict):
            steps = [steps]
        if not isinstance(steps, list):
            raise BillingFileError(file, "expected data to be a list of allocation maps", column="data")
        allocations: list[tuple[str, str, Mapping[str, Any]]] = []
        for index, step in enumerate(steps):
            if step is None:
                continue
            if not isinstance(step, dict):
                raise BillingFileError(file, "not a map of allocations", column=f"data[{index}]")
            for key, value in step.items():
                path = f"data[{index}][{json.dumps(key)}]"
                if not isinstance(value, dict):
                    raise BillingFileError(file, "not an allocation object", column=path)
                allocations.append((path, str(key), value))
        if not allocations:
            raise BillingFileError(file, "the OpenCost answer holds no allocation", column="data")
        return allocations

    def batches(self) -> Iterator[RawBatch]:
        """Canonical text rows in batches of at most ``batch_rows``."""
        rows: list[dict[str, str | None]] = []
        lines: list[int] = []
        for line, row in self._json_rows() if self.json else self._csv_rows():
            rows.append(row)
            lines.append(line)
            if len(rows) >= self.batch_rows:
                yield _table(rows, lines)
                rows, lines = [], []
        if rows:
            yield _table(rows, lines)

    def _json_rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        for position, (path, key, item) in enumerate(self._document, start=1):
            where = _Where(str(self.path), None, path + ".")
            if "\\u0000" in json.dumps(item, default=str) or "\x00" in key:
                raise BillingFileError(
                    str(self.path), "NUL character in this allocation (not storable text)", column=path
                )
            properties = item.get("properties") or {}
            if not isinstance(properties, dict):
                raise where.error("properties", "not an object")
            window = item.get("window") or {}
            if not isinstance(window, dict):
                raise where.error("window", "not an object")
            allocation = Allocation(
                name=str(item.get("name") or key),
                properties=properties,
                labels=properties.get("labels"),
                start=window.get("start", item.get("start")),
                end=window.get("end", item.get("end")),
                day=None,
                total=item.get("totalCost"),
                components={suffix: item.get(json_name) for suffix, _c, json_name in COMPONENTS},
            )
            yield position, allocation_row(allocation, self.currency, where, "properties.labels")

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        keys = {column_key(name): name for name in self.names}
        wanted = (
            "WindowStart",
            "WindowEnd",
            "Name",
            "Labels",
            "Date",
            "TotalCost",
            *(csv_name for _k, csv_name, _j in TAG_PROPERTIES),
            *(csv_name for _s, csv_name, _j in COMPONENTS),
        )
        resolved = {header: keys.get(column_key(header)) for header in wanted}  # spelling looked up once

        def pick(row: Mapping[str, str], header: str) -> str | None:
            name = resolved[header]
            return None if name is None else row.get(name)

        with self._open_text() as handle:
            reader = csv.reader(handle)
            next(reader)
            try:
                for cells in reader:
                    line = reader.line_num
                    if not cells or cells == [""]:
                        continue
                    where = _Where(str(self.path), line, "")
                    if len(cells) != len(self.names):
                        raise where.error(
                            self.names[min(len(cells), len(self.names) - 1)],
                            f"row has {len(cells)} cells, the header {len(self.names)}",
                        )
                    for column, cell in zip(self.names, cells, strict=True):
                        if "\x00" in cell:
                            raise where.error(column, "NUL character (not storable text)")
                    row = dict(zip(self.names, (cell.strip() for cell in cells), strict=True))
                    window = pick(row, "WindowStart"), pick(row, "WindowEnd")
                    properties = {
                        json_name: pick(row, csv_name) for _k, csv_name, json_name in TAG_PROPERTIES
                    }
                    name = pick(row, "Name") or "/".join(
                        str(v)
                        for v in (properties["namespace"], properties["pod"], properties["container"])
                        if v
                    )
                    allocation = Allocation(
                        name=name,
                        properties=properties,
                        labels=pick(row, "Labels"),
                        start=window[0] or None,
                        end=window[1] or None,
                        day=pick(row, "Date"),
                        total=pick(row, "TotalCost"),
                        components={suffix: pick(row, csv_name) for suffix, csv_name, _j in COMPONENTS},
                    )
                    yield line, allocation_row(allocation, self.currency, where, "Labels")
            except UnicodeDecodeError as exc:
                raise BillingFileError(str(self.path), f"not UTF-8 text: {exc}") from None
            except csv.Error as exc:
                raise BillingFileError(
                    str(self.path), f"unreadable CSV: {exc}", line=reader.line_num
                ) from None
