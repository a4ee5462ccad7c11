"""Collection: durable per-account collection (costs, inventory, utilisation, IAM) and the fan-out over accounts."""
