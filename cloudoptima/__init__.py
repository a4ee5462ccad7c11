"""CloudOptima kernel: domain models, settings, storage, clouds, ingestion, analytics and services.

The kernel never imports an app layer (gateway, mcp_servers, agents, temporal_workflows, tools).
"""

__version__ = "0.1.0"
