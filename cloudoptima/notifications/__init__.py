"""Messages the product sends to people (email today)."""
