"""The ``/v1`` routers; :func:`cloudoptima_gateway.routes.v1.build_router` assembles them."""
