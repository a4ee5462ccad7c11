"""FastMCP servers (aws, azure, gcp, platform): thin registration of the tool catalog."""
