"""CUR reservation and Savings Plans columns -> FOCUS commitment columns, and the derived Unused rows (#22).

Sources: AWS Data Exports user guide ("Reservation details" / ``table-dictionary-cur2-reservation``,
"Savings Plans details" / ``table-dictionary-cur2-savings-plan``, "Line item details" for the line item
types) and the FinOps Foundation rules (``conversion_rules/aws-cur.csv``: CommitmentDiscountId, Category,
Type and the EffectiveCost CASE). Legacy (``reservation/ReservationARN``) and CUR 2.0
(``reservation_reservation_a_r_n``) headers are the same columns (names are matched spelling-insensitively).

Contract:
- CommitmentDiscountId = ``savingsPlan/SavingsPlanARN`` else ``reservation/ReservationARN``; Category
  ``Spend`` (Savings Plan) / ``Usage`` (RI); Type ``Savings Plan`` / ``Reserved Instances (RI)``.
- CommitmentDiscountStatus = ``Used`` on the usage a commitment paid for (``DiscountedUsage``,
  ``SavingsPlanCoveredUsage``, which also get PricingCategory ``Committed``) and on ``SavingsPlanNegation`` (the offset of that usage's on-demand
  charge); null on the fee rows (``RIFee``, ``SavingsPlanRecurringFee``, ``SavingsPlanUpfrontFee``,
  ``Fee``), which are Purchases.
- ListCost of ``SavingsPlanNegation`` rows is 0: a negation only offsets the covered row's on-demand charge,
  whose on-demand equivalent the covered row already carries (coverage and savings would count it twice).
- CommitmentDiscountQuantity (RIs only; a Savings Plan's quantity is money and is left null): the used rows
  carry ``lineItem/NormalizedUsageAmount`` and the unused rows ``reservation/UnusedNormalizedUnitQuantity``
  (unit ``Normalized Units``) when the file has both columns, else ``lineItem/UsageAmount`` and
  ``reservation/UnusedQuantity`` (unit ``Hours``): one unit for the whole file, so size-flexible RIs are
  compared in normalised units whenever AWS gives them.
- Unused commitment: the Foundation's EffectiveCost of a fee row is its unused part (``RIFee``:
  ``UnusedAmortizedUpfrontFeeForBillingPeriod + UnusedRecurringFee``; ``SavingsPlanRecurringFee``:
  ``TotalCommitmentToDate - UsedCommitment``). :func:`with_unused_rows` moves it onto a derived row (FOCUS's
  shape: ChargeCategory ``Usage``, ChargeFrequency ``Usage-Based``, CommitmentDiscountStatus ``Unused``,
  PricingCategory ``Committed``, BilledCost 0, ListCost 0, no consumed quantity) and sets the fee row's EffectiveCost to 0, so the file's
  Σ BilledCost and Σ EffectiveCost are unchanged and utilisation = used / (used + unused). A derived row
  copies the fee row's other columns (its charge period: the month of an ``RIFee``, the hour or day of a
  ``SavingsPlanRecurringFee``), its source line, and names its origin in ``extensions``
  (``x_unused_commitment_of``). An RI bought or expiring inside the month is idle only while it exists: the
  derived row's charge period is the RIFee's clipped to ``[reservation/StartTime, reservation/EndTime)`` when
  both parse and the overlap is not empty. Fee rows whose unused part is not positive (nothing idle, or a
  negative remainder should a file carry UsedCommitment above TotalCommitmentToDate) or is unreadable derive
  nothing and keep it as their EffectiveCost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, constant

USED_TYPES = ("DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
UNUSED_FROM = ("RIFee", "SavingsPlanRecurringFee")
_NORMALISED = ("lineItem/NormalizedUsageAmount", "reservation/UnusedNormalizedUnitQuantity")
_HOURS = ("lineItem/UsageAmount", "reservation/UnusedQuantity")
_EMPTY = (
    "commitment_discount_category",
    "commitment_discount_type",
    "commitment_discount_status",
    "commitment_discount_quantity",
    "commitment_discount_unit",
)
_BLANK_ON_UNUSED = (
    "consumed_quantity",
    "consumed_unit",
    "contracted_unit_price",
    "list_unit_price",
    "sku_price_id",
)


def _where(line_type: pa.Array, *kinds: str) -> pa.Array:
    return pc.fill_null(pc.is_in(line_type, value_set=pa.array(kinds)), False)


def _quantity_sources(columns: SourceColumns) -> tuple[str, str, str]:
    """(used column, unused column, unit): normalised units when the file has both, else hours."""
    if all(columns.name_of(name) is not None for name in _NORMALISED):
        return _NORMALISED[0], _NORMALISED[1], "Normalized Units"
    return _HOURS[0], _HOURS[1], "Hours"


def commitment_columns(
    columns: SourceColumns, line_type: pa.Array, pricing_category: pa.Array, list_cost: pa.Array
) -> dict[str, pa.Array]:
    """The FOCUS commitment columns of a CUR batch's own rows, PricingCategory ``Committed`` on the usage a
    commitment paid for and the negations' ListCost (module contract); ``pricing_category`` is the one read
    from the purchase option, ``list_cost`` the one read from ``pricing/publicOnDemandCost``."""
    savings_plan = columns.text("savingsPlan/SavingsPlanARN")
    reservation = columns.text("reservation/ReservationARN")
    has_sp = pc.is_valid(savings_plan)
    has_ri = pc.is_valid(reservation)
    null = pa.scalar(None, pa.string())
    commitment_id = pc.coalesce(savings_plan, reservation)
    if commitment_id.null_count == len(commitment_id):  # no commitment in this batch (the common case)
        return {
            "list_cost": list_cost,
            "pricing_category": pricing_category,
            "commitment_discount_id": commitment_id,
            **{name: constant(None, columns.length) for name in _EMPTY},
        }
    used = pc.and_(_where(line_type, *USED_TYPES), pc.is_valid(commitment_id))
    used_column, _, unit = _quantity_sources(columns)
    discounted = pc.and_(_where(line_type, "DiscountedUsage"), has_ri)
    paid_for = pc.and_(
        _where(line_type, "DiscountedUsage", "SavingsPlanCoveredUsage"), pc.is_valid(commitment_id)
    )
    return {
        "list_cost": pc.if_else(
            _where(line_type, "SavingsPlanNegation"), pa.scalar("0", pa.string()), list_cost
        ),
        "pricing_category": pc.if_else(paid_for, "Committed", pricing_category),
        "commitment_discount_id": commitment_id,
        "commitment_discount_category": pc.if_else(has_sp, "Spend", pc.if_else(has_ri, "Usage", null)),
        "commitment_discount_type": pc.if_else(
            has_sp, "Savings Plan", pc.if_else(has_ri, "Reserved Instances (RI)", null)
        ),
        "commitment_discount_status": pc.if_else(used, "Used", null),
        "commitment_discount_quantity": pc.if_else(discounted, columns.text(used_column), null),
        "commitment_discount_unit": pc.if_else(discounted, unit, null),
    }


def _positive(values: pa.Array) -> pa.Array:
    flags: list[bool] = []
    for value in values.to_pylist():
        try:
            flags.append(value is not None and Decimal(value) > 0)
        except InvalidOperation:
            flags.append(False)
    return pa.array(flags, pa.bool_())


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _active_periods(
    starts: pa.Array, ends: pa.Array, ri_starts: pa.Array, ri_ends: pa.Array, is_ri: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Each (start, end) text clipped to the reservation's term where it parses and overlaps (contract)."""
    out_start: list[str | None] = []
    out_end: list[str | None] = []
    for start, end, ri_start, ri_end, ri in zip(
        starts.to_pylist(),
        ends.to_pylist(),
        ri_starts.to_pylist(),
        ri_ends.to_pylist(),
        is_ri.to_pylist(),
        strict=True,
    ):
        t0, t1, r0, r1 = _instant(start), _instant(end), _instant(ri_start), _instant(ri_end)
        if ri and t0 and t1 and r0 and r1 and max(t0, r0) < min(t1, r1) and (r0 > t0 or r1 < t1):
            out_start.append(_rfc3339(max(t0, r0)))
            out_end.append(_rfc3339(min(t1, r1)))
        else:
            out_start.append(start)
            out_end.append(end)
    return pa.array(out_start, pa.string()), pa.array(out_end, pa.string())


def with_unused_rows(mapped: MappedBatch, columns: SourceColumns, line_type: pa.Array) -> MappedBatch:
    """``mapped`` plus one derived Unused row per fee row with a positive unused part (module contract)."""
    effective = mapped.columns["effective_cost"]
    fee = pc.and_(_where(line_type, *UNUSED_FROM), pc.is_valid(mapped.columns["commitment_discount_id"]))
    if not pc.any(fee).as_py():
        return mapped  # most batches: no fee row, nothing read row by row
    candidates = pc.indices_nonzero(fee)
    index = pc.filter(candidates, _positive(pc.take(effective, candidates)))
    count = len(index)
    if count == 0:
        return mapped
    derive = pc.is_in(pa.array(range(columns.length), pa.uint64()), value_set=index.cast(pa.uint64()))
    _, unused_column, unit = _quantity_sources(columns)
    unused_quantity = pc.take(columns.text(unused_column), index)
    is_ri = pc.equal(pc.take(line_type, index), "RIFee")
    null = pa.scalar(None, pa.string())
    extra = {name: pc.take(values, index) for name, values in mapped.columns.items()}
    extra.update(
        {
            "charge_category": constant("Usage", count),
            "charge_frequency": constant("Usage-Based", count),
            "commitment_discount_status": constant("Unused", count),
            "pricing_category": constant("Committed", count),
            "billed_cost": constant("0", count),
            "effective_cost": pc.take(effective, index),
            "list_cost": constant("0", count),
            "charge_description": pc.binary_join_element_wise(
                "Unused commitment: ", pc.fill_null(extra["charge_description"], ""), ""
            ),
            "commitment_discount_quantity": pc.if_else(is_ri, unused_quantity, null),
            "commitment_discount_unit": pc.if_else(is_ri, unit, null),
            "pricing_quantity": pc.if_else(is_ri, unused_quantity, extra["pricing_quantity"]),
        }
    )
    for name in _BLANK_ON_UNUSED:
        extra[name] = constant(None, count)
    period = (extra["charge_period_start"], extra["charge_period_end"])
    if all(pa.types.is_string(values.type) for values in period):
        extra["charge_period_start"], extra["charge_period_end"] = _active_periods(
            *period,
            pc.take(columns.text("reservation/StartTime"), index),
            pc.take(columns.text("reservation/EndTime"), index),
            is_ri,
        )
    origins = [json.dumps({"x_unused_commitment_of": kind}) for kind in pc.take(line_type, index).to_pylist()]
    columns.ctx.expand(index)
    parent_effective = pc.if_else(derive, pa.scalar("0", pa.string()), effective)
    joined: dict[str, pa.Array] = {}
    for name, values in mapped.columns.items():
        own = parent_effective if name == "effective_cost" else values
        joined[name] = pa.concat_arrays([own, extra[name].cast(own.type)])
    base_extensions = mapped.extensions if mapped.extensions is not None else constant(None, columns.length)
    negative_ok = mapped.negative_ok
    return MappedBatch(
        columns=joined,
        provider=constant("aws", columns.length + count),
        extensions=pa.concat_arrays([base_extensions, pa.array(origins, pa.string())]),
        negative_ok=None
        if negative_ok is None
        else pa.concat_arrays([negative_ok, pc.take(negative_ok, index)]),
        sources=mapped.sources,
    )
