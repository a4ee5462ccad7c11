"""Tool catalog: typed, size-bounded functions over kernel services, shared by MCP servers and agents."""
