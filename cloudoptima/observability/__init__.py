"""Operator telemetry of the kernel: business metrics (:mod:`.metrics`), the log context every JSON log line
carries (:mod:`.log_context`) and OpenTelemetry tracing (:mod:`.tracing`, off unless an OTLP endpoint is set).
Apps (gateway, worker) expose and configure them; services record into them."""
