"""Routers added route by route, so a request is matched against one flat list of routes.

FastAPI 0.165's ``include_router`` keeps an included router as a lazy entry that is matched by walking the
router on every request (twice: once to match, once to handle, and each level re-counts its routes'
version). With the ~150 ``/v1`` routes nested two levels deep that walk was the largest single cost of a
database read in the soak (``benchmarks/README.md``, *Reading* ``gateway_load``). :func:`include_flat` adds
each API route of a router to ``target`` with its full path and the same attributes, so the app's router
matches each route once, in the same order; the OpenAPI document and the route table are unchanged.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute, _DefaultLifespan


def _plain(router: APIRouter) -> bool:
    """Only API routes, and no lifespan or startup/shutdown handlers (``include_router`` merges those into
    the app's lifespan; a copied route would lose them)."""
    return (
        all(isinstance(route, APIRoute) for route in router.routes)
        and isinstance(router.lifespan_context, _DefaultLifespan)
        and not router.on_startup
        and not router.on_shutdown
    )


def include_flat(target: APIRouter, router: APIRouter, prefix: str = "") -> None:
    """Add every route of ``router`` (already carrying ``router``'s own prefix) to ``target`` under
    ``prefix``, in order. Only a router of API routes alone is copied; one holding anything else (a WebSocket
    route, an included router, a mount) or with a lifespan or startup/shutdown handlers is included the usual
    (lazy) way, whole, so nothing is lost or reordered."""
    if not _plain(router):
        target.include_router(router, prefix=prefix)
        return
    for route in router.routes:
        assert isinstance(route, APIRoute)
        target.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=sorted(route.methods or ()),
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
        )
