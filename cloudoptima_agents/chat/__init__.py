"""Chat agent: a tool-using assistant over the read-only catalog (plus request_remediation), conversations
kept per user in a LangGraph checkpointer. See :mod:`cloudoptima_agents.chat.graph` and :mod:`cloudoptima_agents.chat.service`."""
