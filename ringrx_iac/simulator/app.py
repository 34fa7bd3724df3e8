"""The simulator's ASGI application: the RingRx API of ``docs/ringrx-api.md`` plus ``/_sim``.

``Simulator`` holds everything a running simulator has (state, token authority, faults,
stats, deliveries). ``Simulator.asgi`` is the outer ASGI callable: it counts the request,
applies latency, checks the bearer token, asks ``Faults`` what to do, and then runs the
starlette router.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router, compile_path
from starlette.types import Message, Receive, Scope, Send

from ringrx_iac.api import endpoints as ep
from ringrx_iac.simulator.admin import admin_routes
from ringrx_iac.simulator.auth import AuthFailed, Authority, Principal
from ringrx_iac.simulator.events import MAX_DELIVERIES
from ringrx_iac.simulator.faults import Decision, Faults
from ringrx_iac.simulator.persist import StatePersister
from ringrx_iac.simulator.seed import SeedSource, build_state, read_seed
from ringrx_iac.simulator.state import Invalid, NotFound

ADMIN_PREFIX = "/_sim"
NOT_AUTHENTICATED = {ep.ERRORS_FIELD: ["Not Authenticated"]}
FORBIDDEN = {ep.ERRORS_FIELD: ["Forbidden"]}
NOT_FOUND = {ep.ERRORS_FIELD: ["Not Found"]}
STATUS_TEXT = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
CACHE_MIN_ITEMS = 1000
PUBLIC_PATHS = (ep.TOKEN_PATH, ep.REFRESH_PATH)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Handler = Callable[[Request], Awaitable[Response]]


class BodyError(Exception):
    """A request body that is not the expected JSON (answered 422)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def error(status: int, body: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _rate_headers(rate: tuple[int, int, int]) -> list[tuple[bytes, bytes]]:
    limit, remaining, reset = rate
    return [
        (b"x-ratelimit-limit", str(limit).encode()),
        (b"x-ratelimit-remaining", str(remaining).encode()),
        (b"x-ratelimit-reset", str(reset).encode()),
    ]


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """``send`` adding ``extra`` headers to the response start."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


def invalid(errors: dict[str, list[str]]) -> JSONResponse:
    return error(422, {ep.ERRORS_FIELD: errors})


class Simulator:
    """One simulated RingRx account and everything needed to serve it."""

    def __init__(
        self,
        seed: SeedSource = None,
        state_file: Path | str | None = None,
        token_lifetime: float = 3600,
        refresh_lifetime: float = 86400,
        faults: Faults | None = None,
    ) -> None:
        self.seed: dict[str, Any] = read_seed(seed)
        self.state_file = Path(state_file) if state_file else None
        if self.state_file is not None and self.state_file.exists():
            self.state = build_state(self.state_file)
        else:
            self.state = build_state(self.seed)
        self.persister: StatePersister | None = None
        if self.state_file is not None:
            self.persister = StatePersister(self.state, self.state_file)
            self.state.on_write = self.persister.mark_dirty
            self.persister.write_now()
        self.authority = Authority(self.state, token_lifetime, refresh_lifetime)
        self.faults = faults or Faults()
        self.stats: Counter[str] = Counter()
        self.deliveries: list[dict[str, Any]] = []
        self._delivery_seq = 0
        self._stats_lock = threading.Lock()
        self._list_cache: dict[str, tuple[int, bytes]] = {}
        self._templates = [(compile_path(t)[0], t) for t in _api_templates()]
        api = self._api_routes()
        # (method, template) of every write route: a read-only key is refused these, in _route.
        self._writes = {
            (method, route.path)
            for route in api
            if isinstance(route, Route) and route.path not in PUBLIC_PATHS
            for method in route.methods or ()
            if method in WRITE_METHODS
        }
        self.router = Router(routes=api + admin_routes(self), default=_not_found)

    def close(self) -> None:
        """Write pending state to the ``--state`` file (idempotent; call on shutdown)."""
        if self.persister is not None:
            self.persister.close()

    # ------------------------------------------------------------------ ASGI

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Outer ASGI callable: stats, latency, authentication and faults around the router."""
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX + "/") or path == ADMIN_PREFIX:
            await self.router(scope, receive, send)
            return
        method: str = scope["method"]
        template = self.template(path)
        with self._stats_lock:
            self.stats[f"{method} {template}"] += 1
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        token: str | None = None
        if path not in PUBLIC_PATHS:
            authorization = _header(scope, b"authorization")
            principal = self.authority.check(authorization)
            if principal is None:
                await error(401, NOT_AUTHENTICATED)(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
            token = authorization
        decision = self.faults.decide(method, path, template, token)
        if decision.rate is not None:
            send = _with_headers(send, _rate_headers(decision.rate))
        if decision.passthrough:
            await self._route(scope, receive, send)
            return
        await self._faulty(decision, scope, receive, send)

    async def _faulty(self, decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
        if decision.after_apply:

            async def swallow(message: Message) -> None:
                return None

            await self._route(scope, receive, swallow)
        if decision.drop:
            await _drop_connection(send)
            return
        status = decision.status or 503
        headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else {}
        if status == 429 and not headers:
            headers = {"Retry-After": "1"}
        body = {ep.ERRORS_FIELD: [STATUS_TEXT.get(status, "Simulated failure")]}
        await error(status, body, headers)(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The API router; THE read-only check: a read-only key's write answers 403."""
        principal: Principal | None = scope.get("state", {}).get("principal")
        write = (scope["method"], self.template(scope["path"])) in self._writes
        if write and principal is not None and principal.read_only:
            await error(403, FORBIDDEN)(scope, receive, send)
            return
        await self.router(scope, receive, send)

    def template(self, path: str) -> str:
        """The route template a path matches (for stats and ``fail_next``), else the path."""
        for regex, template in self._templates:
            if regex.match(path):
                return template
        return path

    # ------------------------------------------------------------------ routes

    def _api_routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route(ep.TOKEN_PATH, self.token, methods=["POST"]),
            Route(ep.REFRESH_PATH, self.refresh, methods=["POST"]),
            Route(ep.API_KEY_PATH, self.delete_key, methods=["DELETE"]),
            Route(ep.CALLBACKS_PATH, self.list_callbacks, methods=["GET"]),
            Route(ep.CALLBACKS_PATH, self.create_callback, methods=["POST"]),
            Route(ep.CALLBACK_PATH, self.get_callback, methods=["GET"]),
            Route(ep.CALLBACK_PATH, self.update_callback, methods=["PATCH", "PUT"]),
            Route(ep.CALLBACK_PATH, self.delete_callback, methods=["DELETE"]),
        ]
        for kind, spec in ep.TARGETS.items():
            routes.append(Route(spec.list_path, self._list_targets(kind), methods=["GET"]))
            routes.append(Route(spec.item_path, self._get_target(kind), methods=["GET"]))
            routes.append(Route(spec.item_path, self._patch_target(kind), methods=["PATCH", "PUT"]))
        return routes

    # auth ---------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        creds = await _credentials(request)
        try:
            return JSONResponse(self.authority.login(creds))
        except AuthFailed as exc:
            body: dict[str, Any] = {ep.ERROR_FIELD: "Not Authenticated"}
            if exc.otp_required:
                body[ep.OTP_REQUIRED_FIELD] = True
            return error(401, body)

    async def refresh(self, request: Request) -> Response:
        creds = await _credentials(request)
        try:
            return JSONResponse(self.authority.refresh(creds.get(ep.AUTH_REFRESH_FIELD)))
        except AuthFailed:
            return error(401, {ep.ERROR_FIELD: "Not Authenticated"})

    async def delete_key(self, request: Request) -> Response:
        try:
            key = self.state.delete_key(request.path_params["token"])
        except NotFound:
            return error(404, NOT_FOUND)
        self.authority.revoke_key(key.id)
        return Response(status_code=204)

    # callbacks ----------------------------------------------------------

    async def list_callbacks(self, request: Request) -> Response:
        return self._cached_list("callbacks", self.state.list_callbacks)

    async def get_callback(self, request: Request) -> Response:
        try:
            return JSONResponse(self.state.get_callback(_path_id(request)))
        except NotFound:
            return error(404, NOT_FOUND)

    async def create_callback(self, request: Request) -> Response:
        try:
            fields = await _rooted(request, ep.CALLBACK_ROOT_KEY)
            return JSONResponse(self.state.create_callback(fields))
        except (BodyError, Invalid) as exc:
            return invalid(exc.errors)

    async def update_callback(self, request: Request) -> Response:
        try:
            cb_id = _path_id(request)
            self.state.get_callback(cb_id)
            fields = await _rooted(request, ep.CALLBACK_ROOT_KEY)
            return JSONResponse(self.state.update_callback(cb_id, fields))
        except NotFound:
            return error(404, NOT_FOUND)
        except (BodyError, Invalid) as exc:
            return invalid(exc.errors)

    async def delete_callback(self, request: Request) -> Response:
        try:
            self.state.delete_callback(_path_id(request))
        except NotFound:
            return error(404, NOT_FOUND)
        return Response(status_code=204)

    # targets ------------------------------------------------------------

    def _list_targets(self, kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            return self._cached_list(kind, lambda: self.state.list_targets(kind))

        return handler

    def _get_target(self, kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            try:
                return JSONResponse(self.state.get_target(kind, _path_id(request)))
            except NotFound:
                return error(404, NOT_FOUND)

        return handler

    def _patch_target(self, kind: str) -> Handler:
        spec = ep.TARGETS[kind]

        async def handler(request: Request) -> Response:
            try:
                target_id = _path_id(request)
                target = self.state.get_target(kind, target_id)
                fields = await _rooted(request, spec.root_key)
                extra = {f: ["is not permitted"] for f in fields if f != spec.binding_field}
                if extra:
                    raise Invalid(extra)
                if spec.binding_field not in fields:
                    return JSONResponse(target)
                value = fields[spec.binding_field]
                if value is not None and not (
                    (isinstance(value, int) and not isinstance(value, bool))
                    or (isinstance(value, str) and value.isdigit())
                ):
                    raise Invalid({spec.binding_field: ["must be a callback id or null"]})
                cb_id = None if value is None else int(value)
                return JSONResponse(self.state.bind(kind, target_id, cb_id))
            except NotFound:
                return error(404, NOT_FOUND)
            except (BodyError, Invalid) as exc:
                return invalid(exc.errors)

        return handler

    def _cached_list(self, name: str, build: Callable[[], list[dict[str, Any]]]) -> Response:
        """A list rendered once per state version (lists of 20,000 are read repeatedly)."""
        with self.state.lock:
            version = self.state.version
            cached = self._list_cache.get(name)
            if cached is not None and cached[0] == version:
                return Response(cached[1], media_type="application/json")
            items = build()
            body = json.dumps(items, separators=(",", ":")).encode()
            # Only big lists are cached: a test editing State's dicts directly (without its
            # methods, so without a version bump) still sees its edit on small accounts.
            if len(items) >= CACHE_MIN_ITEMS:
                self._list_cache[name] = (version, body)
        return Response(body, media_type="application/json")

    # ------------------------------------------------------------------ admin helpers

    def reset(self, seed: SeedSource = None) -> None:
        """Back to the seed (or to a new one, which then becomes the seed reset returns to)."""
        data = self.seed if seed is None else read_seed(seed)
        fresh = build_state(data)  # raises SeedError before anything changes
        self.seed = data
        self.state.replace(fresh)
        self._list_cache.clear()

    def record_deliveries(self, done: list[dict[str, Any]]) -> None:
        """Append to the delivery log (bounded: the oldest are dropped)."""
        with self._stats_lock:
            for record in done:
                self._delivery_seq += 1
                self.deliveries.append({"id": self._delivery_seq, **record})
            del self.deliveries[: max(0, len(self.deliveries) - MAX_DELIVERIES)]

    def stats_snapshot(self) -> dict[str, int]:
        with self._stats_lock:
            data = dict(sorted(self.stats.items()))
        data["total"] = sum(data.values())
        return data

    def reset_stats(self) -> None:
        with self._stats_lock:
            self.stats.clear()


def _api_templates() -> list[str]:
    templates = [
        ep.TOKEN_PATH,
        ep.REFRESH_PATH,
        ep.API_KEY_PATH,
        ep.CALLBACKS_PATH,
        ep.CALLBACK_PATH,
    ]
    for spec in ep.TARGETS.values():
        templates += [spec.list_path, spec.item_path]
    return templates


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _principal(request: Request) -> Principal:
    principal: Principal = request.scope["state"]["principal"]
    return principal


def _path_id(request: Request) -> int:
    """The ``{id}`` of the path as an int; a non-numeric id is an unknown object (404)."""
    raw = str(request.path_params.get("id", ""))
    if not raw.isdigit():
        raise NotFound(request.path_params.get("id"))
    return int(raw)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise BodyError({"base": ["the body is not valid JSON"]}) from None


async def _rooted(request: Request, root: str) -> dict[str, Any]:
    """The object under ``root`` of a ``{root: {...}}`` body; any other shape is a 422."""
    body = await _json_body(request)
    if not isinstance(body, dict) or root not in body:
        raise BodyError({root: ["is missing"]})
    extra = [k for k in body if k != root]
    if extra:
        raise BodyError({k: ["is not permitted"] for k in extra})
    fields = body[root]
    if not isinstance(fields, dict):
        raise BodyError({root: ["must be an object"]})
    return fields


async def _credentials(request: Request) -> dict[str, Any]:
    """Credentials from the query string and/or a JSON (or form) body."""
    creds: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
            if "form" in request.headers.get("content-type", ""):
                form = await request.form()
                body = {k: v for k, v in form.items() if isinstance(v, str)}
        if isinstance(body, dict):
            creds.update(body)
    return creds


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await error(404, NOT_FOUND)(scope, receive, send)


async def _drop_connection(send: Send) -> None:
    """Close the client's connection without an answer (an ambiguous failure)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.close()
        for _ in range(3):  # let uvicorn see the disconnect before we return
            await asyncio.sleep(0)
        return
    raise ConnectionAbortedError("simulated dropped connection")
