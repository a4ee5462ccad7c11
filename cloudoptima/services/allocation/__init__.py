"""Allocation (``virtual tags``): dimensions and versioned rule sets (:mod:`.dimensions`), re-allocation
into ``cost_allocated_daily`` (:mod:`.engine`, SQL from :mod:`.sql`) and showback reads (:mod:`.queries`).
Rules and splits are specified in :mod:`cloudoptima.domain.allocation`."""
