"""Moves the clock of Python subprocesses started by a ``pytest --move-clock`` run (see tests/moved_clock.py).

Only active when ``TEST_MOVED_CLOCK_OFFSET`` (seconds) is set, which only that plugin does; the
directory is put on ``PYTHONPATH`` by the plugin, never by the product.
"""

import os

_offset = os.environ.get("TEST_MOVED_CLOCK_OFFSET")
if _offset:
    import time
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(_offset)), tick=True).start()
    time.time()  # a ticking traveller starts ticking at the first reading, not at start()
