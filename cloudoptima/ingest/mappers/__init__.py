"""Native billing formats -> FOCUS-named columns, one module per source format.

Each module exposes ``map_batch(columns: SourceColumns) -> MappedBatch`` and, where the source has a header
contract, ``REQUIRED_COLUMNS``. Values stay text; ``cloudoptima.ingest.validation`` types and checks them.
"""
