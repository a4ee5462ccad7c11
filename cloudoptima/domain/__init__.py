"""Pydantic domain models: no ORM, SDK or framework imports; Decimal money; UTC datetimes."""
