"""Allocation: the ``ReallocateCosts`` workflow (one dimension's rule-set version applied to all history)."""
