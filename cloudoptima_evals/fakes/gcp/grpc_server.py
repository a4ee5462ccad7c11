"""A strict gRPC fake of Cloud Monitoring ``ListTimeSeries`` and IAM Admin service accounts and keys.

The GAPIC packages ship no generated servicer base classes, so the services are registered with
``grpc.method_handlers_generic_handler`` using the real request/response message classes for
(de)serialisation. Like the real services the fake requires ``authorization: Bearer <token>`` metadata
(UNAUTHENTICATED otherwise), pages with ``next_page_token`` and answers RESOURCE_EXHAUSTED on demand.
It listens with gRPC *local* credentials: no TLS, but call credentials (the bearer token) still flow.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any, cast

import grpc
from google.cloud import iam_admin_v1, monitoring_v3

from cloudoptima_evals.fakes.gcp.state import FakeGcp


def _check(state: FakeGcp, context: grpc.ServicerContext, route: str, permission: str) -> None:
    metadata = dict(context.invocation_metadata())
    if not state.authorised(metadata.get("authorization")):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "Request had invalid authentication credentials.")
    with state.lock:
        state.calls.append((route, ""))
    if state.take_throttle(route):
        context.abort(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota exceeded for quota metric 'Time series queries'"
        )
    if permission not in state.permissions:
        context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            f"Permission '{permission}' denied on resource 'projects/{state.project}' (or it may not exist).",
        )


def _page(items: list[Any], token: str, size: int) -> tuple[list[Any], str]:
    start = int(token or 0)
    return items[start : start + size], (str(start + size) if start + size < len(items) else "")


def monitoring_handler(state: FakeGcp) -> grpc.GenericRpcHandler:
    def list_time_series(request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext) -> Any:
        _check(state, context, "ListTimeSeries", "monitoring.timeSeries.list")
        # proto-plus hands Duration and Timestamp fields over as timedelta and datetime; the stubs name
        # the protobuf types
        if cast(timedelta, request.aggregation.alignment_period).total_seconds() != 3600:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected 3600 s alignment")
        start = cast(datetime, request.interval.start_time)
        end = cast(datetime, request.interval.end_time)
        matching = [
            s
            for s in state.series
            if f'metric.type = "{s["metric"]}"' in request.filter
            and f'resource.type = "{s.get("resource_type", "gce_instance")}"' in request.filter
        ]
        series = []
        for s in matching:
            points = [
                monitoring_v3.Point(
                    interval=monitoring_v3.TimeInterval(start_time=ts, end_time=ts),
                    value=monitoring_v3.TypedValue(int64_value=int(v))
                    if s["integer"]
                    else monitoring_v3.TypedValue(double_value=v),
                )
                for ts, v in reversed(s["points"])
                if start < ts <= end
            ]
            if points and s.get("resource_type") == "cloudsql_database":
                series.append(
                    monitoring_v3.TimeSeries(
                        metric={"type": s["metric"]},
                        resource={
                            "type": "cloudsql_database",
                            "labels": {"database_id": s["database_id"], "project_id": state.project},
                        },
                        points=points,
                    )
                )
            elif points:
                series.append(
                    monitoring_v3.TimeSeries(
                        metric={"type": s["metric"], "labels": {"instance_name": s["instance"]}},
                        resource={
                            "type": "gce_instance",
                            "labels": {"zone": s["zone"], "project_id": state.project},
                        },
                        points=points,
                    )
                )
        chunk, token = _page(series, request.page_token, min(request.page_size or 2, state.page_size))
        return monitoring_v3.ListTimeSeriesResponse(time_series=chunk, next_page_token=token)

    return grpc.method_handlers_generic_handler(
        "google.monitoring.v3.MetricService",
        {
            "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                list_time_series,
                request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
            )
        },
    )


def iam_handler(state: FakeGcp) -> grpc.GenericRpcHandler:
    def list_accounts(request: iam_admin_v1.ListServiceAccountsRequest, context: grpc.ServicerContext) -> Any:
        _check(state, context, "ListServiceAccounts", "iam.serviceAccounts.list")
        chunk, token = _page(state.service_accounts, request.page_token, state.page_size)
        return iam_admin_v1.ListServiceAccountsResponse(
            accounts=[iam_admin_v1.ServiceAccount(**a) for a in chunk], next_page_token=token
        )

    def list_keys(request: iam_admin_v1.ListServiceAccountKeysRequest, context: grpc.ServicerContext) -> Any:
        _check(state, context, "ListServiceAccountKeys", "iam.serviceAccountKeys.list")
        if request.name not in state.keys:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Service account {request.name} does not exist.")
        wanted = set(request.key_types)
        keys = [k for k in state.keys[request.name] if not wanted or k["key_type"] in wanted]
        return iam_admin_v1.ListServiceAccountKeysResponse(
            keys=[iam_admin_v1.ServiceAccountKey(**k) for k in keys]
        )

    def unary(fn: Any, req: Any, resp: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=req.deserialize, response_serializer=resp.serialize
        )

    return grpc.method_handlers_generic_handler(
        "google.iam.admin.v1.IAM",
        {
            "ListServiceAccounts": unary(
                list_accounts,
                iam_admin_v1.ListServiceAccountsRequest,
                iam_admin_v1.ListServiceAccountsResponse,
            ),
            "ListServiceAccountKeys": unary(
                list_keys,
                iam_admin_v1.ListServiceAccountKeysRequest,
                iam_admin_v1.ListServiceAccountKeysResponse,
            ),
        },
    )


class FakeGrpcServer:
    """Monitoring + IAM Admin on a free 127.0.0.1 port with local credentials.

    ``start_guard`` wraps the server's start (tests pass their ``real_clock``: grpc's server start hangs
    under a moved clock, ``pytest --move-clock``).
    """

    def __init__(
        self, state: FakeGcp, start_guard: Callable[[], AbstractContextManager[None]] = nullcontext
    ) -> None:
        self._start_guard = start_guard
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((monitoring_handler(state), iam_handler(state)))
        port = self.server.add_secure_port(
            "127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        )
        self.target = f"127.0.0.1:{port}"

    def __enter__(self) -> FakeGrpcServer:
        with self._start_guard():
            self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None)
