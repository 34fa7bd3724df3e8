"""The admin API under ``/_sim/``: read and edit state directly, faults, stats, events.

No authentication; answered only to loopback clients. Bodies and answers are JSON.

- ``GET /_sim/state``: callbacks, targets, users and keys; passwords, key secrets and
  secret header values masked unless ``?secrets=1``
- ``POST /_sim/reset``: back to the seed; ``POST /_sim/seed``: replace state from a JSON seed
  (it becomes the seed ``reset`` returns to)
- ``POST /_sim/callbacks``, ``PATCH|DELETE /_sim/callbacks/{id}``: edit callbacks as if in
  the portal (a body may be bare fields or ``{"pbx_callback": {...}}``; PATCH may change
  the type; POST may give an ``id``)
- ``PATCH /_sim/targets/{kind}/{id}``: edit any field of a target, binding included
- ``GET|POST /_sim/faults``: fault settings (latency, rate_limit, error_rate, drop_rate,
  token_lifetime, fail_next, seed)
- ``GET /_sim/stats`` (``{"METHOD /template": n, ..., "total": n}``), ``POST /_sim/stats/reset``
- ``POST /_sim/events/{type}`` ``{"target"?, "payload"?, "file"?}``: fire callbacks
- ``GET|DELETE /_sim/deliveries``: the delivery log
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from ringrx_iac.api import endpoints as ep
from ringrx_iac.api.credentials import is_loopback_host
from ringrx_iac.simulator import events
from ringrx_iac.simulator.auth import Authority
from ringrx_iac.simulator.faults import FaultError, Faults
from ringrx_iac.simulator.seed import SeedError, SeedSource
from ringrx_iac.simulator.state import CREATED_AT, F_ID, UPDATED_AT, Invalid, NotFound, State


class Simulated(Protocol):
    """What the admin routes need of the simulator (:class:`.app.Simulator`)."""

    state: State
    faults: Faults
    authority: Authority
    deliveries: list[dict[str, Any]]

    def reset(self, seed: SeedSource = None) -> None: ...
    def record_deliveries(self, done: list[dict[str, Any]]) -> None: ...
    def stats_snapshot(self) -> dict[str, int]: ...
    def reset_stats(self) -> None: ...


NOT_FOUND = {"errors": ["Not Found"]}


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    return host == "testclient" or is_loopback_host(host)  # testclient: starlette's TestClient


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _bad(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"errors": {"base": [message]}}, status_code=status)


def admin_routes(sim: Simulated) -> list[BaseRoute]:
    """The ``/_sim`` routes bound to one simulator."""
    return AdminApi(sim).routes()


class AdminApi:
    """The admin API of one simulator: one method per route, like the RingRx API handlers."""

    def __init__(self, sim: Simulated) -> None:
        self.sim = sim

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/state", self.state, methods=["GET"]),
            Route("/reset", self.reset, methods=["POST"]),
            Route("/seed", self.seed, methods=["POST"]),
            Route("/callbacks", self.create_callback, methods=["POST"]),
            Route("/callbacks/{id}", self.callback, methods=["GET", "PATCH", "DELETE"]),
            Route("/targets/{kind}/{id}", self.target, methods=["PATCH"]),
            Route("/faults", self.faults, methods=["GET", "POST"]),
            Route("/stats", self.stats, methods=["GET"]),
            Route("/stats/reset", self.reset_stats, methods=["POST"]),
            Route("/events/{type}", self.fire, methods=["POST"]),
            Route("/deliveries", self.deliveries, methods=["GET", "DELETE"]),
        ]
        router = Router(routes=routes, default=_not_found)
        return [Mount("/_sim", app=_LoopbackOnly(router))]

    async def state(self, request: Request) -> Response:
        secrets = request.query_params.get("secrets") in ("1", "true", "yes")
        return JSONResponse(self.sim.state.snapshot(secrets=secrets))

    async def reset(self, request: Request) -> Response:
        self.sim.reset()
        return JSONResponse({"ok": True})

    async def seed(self, request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict):
            return _bad("the body must be a JSON seed object")
        try:
            self.sim.reset(body)
        except SeedError as exc:
            return _bad(str(exc))
        return JSONResponse({"ok": True})

    async def create_callback(self, request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, dict) and isinstance(body.get(ep.CALLBACK_ROOT_KEY), dict):
            body = body[ep.CALLBACK_ROOT_KEY]
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object of callback fields")
        fields = {k: v for k, v in body.items() if k not in (F_ID, CREATED_AT, UPDATED_AT)}
        cb_id = body.get(F_ID)
        if cb_id is not None and (not isinstance(cb_id, int) or cb_id in self.sim.state.callbacks):
            return _bad(f"id {cb_id!r} is not a free integer id")
        try:
            return JSONResponse(self.sim.state.create_callback(fields, cb_id=cb_id))
        except Invalid as exc:
            return JSONResponse({"errors": exc.errors}, status_code=422)

    async def callback(self, request: Request) -> Response:
        raw = request.path_params["id"]
        if not raw.isdigit():
            return JSONResponse(NOT_FOUND, status_code=404)
        cb_id = int(raw)
        try:
            if request.method == "DELETE":
                self.sim.state.delete_callback(cb_id)
                return Response(status_code=204)
            if request.method == "GET":
                return JSONResponse(self.sim.state.get_callback(cb_id))
            body = await _body(request)
            if isinstance(body, dict) and isinstance(body.get(ep.CALLBACK_ROOT_KEY), dict):
                body = body[ep.CALLBACK_ROOT_KEY]
            if not isinstance(body, dict):
                return _bad("the body must be a JSON object of callback fields")
            return JSONResponse(self.sim.state.update_callback(cb_id, body, allow_type_change=True))
        except NotFound:
            return JSONResponse(NOT_FOUND, status_code=404)
        except Invalid as exc:
            return JSONResponse({"errors": exc.errors}, status_code=422)

    async def target(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        raw = request.path_params["id"]
        if kind not in ep.TARGETS or not raw.isdigit():
            return JSONResponse(NOT_FOUND, status_code=404)
        body = await _body(request)
        spec = ep.TARGETS[kind]
        if isinstance(body, dict) and isinstance(body.get(spec.root_key), dict):
            body = body[spec.root_key]
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object of target fields")
        try:
            return JSONResponse(self.sim.state.patch_target(kind, int(raw), body))
        except NotFound:
            return JSONResponse(NOT_FOUND, status_code=404)

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            if not isinstance(body, dict):
                return _bad("the body must be a JSON object of fault settings")
            try:
                if "token_lifetime" in body:
                    value = body["token_lifetime"]
                    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                        raise FaultError("token_lifetime: must be a positive number of seconds")
                self.sim.faults.update(body)
            except (FaultError, TypeError, ValueError) as exc:
                return _bad(str(exc))
            if "token_lifetime" in body:
                self.sim.authority.token_lifetime = float(body["token_lifetime"])
        data = self.sim.faults.to_dict()
        data["token_lifetime"] = self.sim.authority.token_lifetime
        return JSONResponse(data)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.sim.stats_snapshot())

    async def reset_stats(self, request: Request) -> Response:
        self.sim.reset_stats()
        return JSONResponse(self.sim.stats_snapshot())

    async def fire(self, request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object: {target?, payload?, file?}")
        try:
            done = await events.fire(self.sim.state, request.path_params["type"], body)
        except events.EventError as exc:
            return JSONResponse({"errors": exc.errors}, status_code=exc.status)
        self.sim.record_deliveries(done)
        return JSONResponse({"deliveries": done})

    async def deliveries(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.sim.deliveries.clear()
            return Response(status_code=204)
        return JSONResponse(list(self.sim.deliveries))


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await JSONResponse(NOT_FOUND, status_code=404)(scope, receive, send)


class _LoopbackOnly:
    """Refuses admin requests from anything but loopback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope)
        if scope["type"] == "http" and not _is_loopback(request):
            await JSONResponse({"errors": ["Forbidden"]}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)
