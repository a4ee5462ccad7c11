"""LangGraph agents: build_graph(model, tools, ...) per agent; nothing is built at import."""
