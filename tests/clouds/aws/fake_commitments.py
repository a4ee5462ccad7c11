"""A strict local fake of the two AWS APIs that list owned commitments (moto implements neither), a real HTTP
server on 127.0.0.1 reached through boto3's ``endpoint_url``.

- EC2 Query protocol: ``POST /`` form body ``Action=DescribeReservedInstances&Version=2016-11-15`` only
  (any other action or version: 400 ``InvalidAction``); answers the ``DescribeReservedInstancesResponse`` XML
  of the region named in the SigV4 credential scope.
- Savings Plans REST-JSON: ``POST /DescribeSavingsPlans`` with a JSON body; ``maxResults`` 1..1000 and
  ``nextToken`` only as issued (else 400 ``ValidationException``); pages of ``maxResults`` plans.

Every request needs a SigV4 ``Authorization`` header whose credential scope names the right service (else
403; another path 404); an action in ``denied`` is answered as AWS answers a missing permission (EC2
``UnauthorizedOperation``, Savings Plans ``AccessDeniedException``, both 403); requests are recorded in
``calls``.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

_SCOPE = re.compile(r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9]+)/aws4_request, ")


def _ri_xml(ri: dict[str, Any]) -> str:
    charges = "".join(
        f"<item><frequency>Hourly</frequency><amount>{c}</amount></item>" for c in ri.get("hourly", [])
    )
    zone = f"<availabilityZone>{ri['zone']}</availabilityZone>" if ri.get("zone") else ""
    return (
        f"<item><reservedInstancesId>{escape(ri['id'])}</reservedInstancesId>"
        f"<instanceType>{ri['type']}</instanceType>{zone}"
        f"<start>{ri['start']}</start><end>{ri['end']}</end><duration>{ri['duration']}</duration>"
        f"<usagePrice>{ri.get('usage_price', '0.0')}</usagePrice><fixedPrice>{ri['fixed']}</fixedPrice>"
        f"<instanceCount>{ri['count']}</instanceCount><productDescription>Linux/UNIX</productDescription>"
        f"<state>{ri['state']}</state><instanceTenancy>default</instanceTenancy>"
        f"<currencyCode>USD</currencyCode><offeringType>{ri['offering']}</offeringType>"
        f"<recurringCharges>{charges}</recurringCharges><offeringClass>standard</offeringClass>"
        f"<scope>{'Availability Zone' if ri.get('zone') else 'Region'}</scope></item>"
    )


class FakeCommitmentApis:
    """Serves ``reserved[region]`` (dicts: id, type, zone?, start, end, duration, fixed, hourly, count,
    state, offering) and ``plans`` (Savings Plans API dicts) until :meth:`close`."""

    def __init__(self, reserved: dict[str, list[dict[str, Any]]], plans: list[dict[str, Any]]) -> None:
        self.reserved, self.plans = reserved, plans
        self.calls: list[tuple[str, str, str]] = []  # (service, region, action)
        self.denied: set[str] = set()  # actions answered as AWS answers a missing permission
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                scope = _SCOPE.match(self.headers.get("Authorization", ""))
                if scope is None:
                    return self._send(403, "text/plain", b"missing SigV4 Authorization")
                region, service = scope.groups()
                if service == "ec2" and self.path == "/":
                    return self._ec2(region, parse_qs(body.decode()))
                if service == "savingsplans" and self.path == "/DescribeSavingsPlans":
                    return self._plans(json.loads(body or b"{}"))
                return self._send(404, "text/plain", f"{service} {self.path} not served".encode())

            def _ec2(self, region: str, form: dict[str, list[str]]) -> None:
                action, version = form.get("Action", [""])[0], form.get("Version", [""])[0]
                fake.calls.append(("ec2", region, action))
                if action in fake.denied:
                    xml = (
                        "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not "
                        "authorized to perform this operation.</Message></Error></Errors></Response>"
                    )
                    return self._send(403, "text/xml", xml.encode())
                if action != "DescribeReservedInstances" or version != "2016-11-15":
                    xml = (
                        "<Response><Errors><Error><Code>InvalidAction</Code><Message>"
                        f"{escape(action)} {escape(version)}</Message></Error></Errors></Response>"
                    )
                    return self._send(400, "text/xml", xml.encode())
                items = "".join(_ri_xml(ri) for ri in fake.reserved.get(region, []))
                xml = (
                    '<DescribeReservedInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                    f"<requestId>r-1</requestId><reservedInstancesSet>{items}</reservedInstancesSet>"
                    "</DescribeReservedInstancesResponse>"
                )
                return self._send(200, "text/xml", xml.encode())

            def _plans(self, request: dict[str, Any]) -> None:
                fake.calls.append(("savingsplans", "", "DescribeSavingsPlans"))
                if "DescribeSavingsPlans" in fake.denied:
                    body = json.dumps(
                        {"message": "not authorized: savingsplans:DescribeSavingsPlans"}
                    ).encode()
                    return self._send(
                        403, "application/json", body, {"x-amzn-ErrorType": "AccessDeniedException"}
                    )
                size, token = request.get("maxResults", 1000), request.get("nextToken")
                if not isinstance(size, int) or not 1 <= size <= 1000:
                    return self._invalid("maxResults must be 1..1000")
                if token is not None and not (isinstance(token, str) and token.startswith("page-")):
                    return self._invalid("nextToken was not issued")
                first = int(token[5:]) if token else 0
                page = fake.plans[first : first + size]
                answer: dict[str, Any] = {"savingsPlans": page}
                if first + size < len(fake.plans):
                    answer["nextToken"] = f"page-{first + size}"
                return self._send(200, "application/json", json.dumps(answer).encode())

            def _invalid(self, message: str) -> None:
                body = json.dumps({"message": message}).encode()
                self._send(400, "application/json", body, {"x-amzn-ErrorType": "ValidationException"})

            def _send(self, status: int, kind: str, body: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
