"""Use cases combining storage, clouds and analytics: what the product does."""
