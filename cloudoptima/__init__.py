"""CloudOptima kernel: domain models, settings, storage, clouds, ingestion, analytics and services.

The kernel never imports an app layer (cloudoptima_gateway, cloudoptima_mcp, cloudoptima_agents, cloudoptima_workflows, cloudoptima_tools).
"""

__version__ = "0.1.0"
