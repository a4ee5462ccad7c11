"""FastAPI gateway: create_app(settings) serves the REST and WebSocket API."""
