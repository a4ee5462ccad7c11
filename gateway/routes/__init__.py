"""The ``/v1`` routers; :func:`gateway.routes.v1.build_router` assembles them."""
