"""A strict fake Azure over https: Entra ID tokens, ARM (compute, network, cost management, monitor), Graph."""
