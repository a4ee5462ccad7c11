"""Operator telemetry of the kernel: business metrics (:mod:`.metrics`) and the log context every JSON log line
carries (:mod:`.log_context`). Apps (gateway, worker) expose and configure them; services record into them."""
