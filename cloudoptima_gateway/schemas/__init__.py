"""Request and response bodies of the ``/v1`` API (seed §3.2 field names).

Money is ``Decimal`` inside and a JSON **number** on the wire, rounded to cents (:data:`Money`); amounts
below 10^13 round-trip exactly. Datetimes are UTC ISO 8601; date ranges are end-exclusive.
"""
