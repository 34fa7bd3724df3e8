"""An independent RingRx server, written from ``docs/ringrx-api.md`` (the contract) only.

The project's own tests run against its own simulator (``ringrx_iac/simulator``). When the
client and the simulator share a misreading of the contract, those tests stay green. This
server is a second, separate reading of the same document, so it must NOT import
``ringrx_iac``: keep it that way, and when the contract changes, change this file from the
contract text, not from the client's or the simulator's code.

It is strict where the contract is: bodies must have the documented root key, a target PATCH
must carry only its binding field, ``callback_type`` cannot change, refresh tokens rotate.
Every request is recorded (method, path, query, JSON body, answered status) for assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Json = dict[str, Any]
Handler = Callable[[Request, Any], Response]

API_TOKEN = "contract-api-token"
API_SECRET = "contract-API-SECRET-never-printed"
USERNAME = "contract-user@example.com"
PASSWORD = "contract-USER-PASSWORD-never-printed"

CALLBACK_TYPES = {"sms", "voicemail", "fax", "cdr", "recording", "outreach", "call_alert"}
CALLBACK_FIELDS = {
    "name",
    "callback_type",
    "url",
    "use_basic_auth",
    "auth_username",
    "auth_password",
    "custom_headers",
}
# list path -> (PATCH root key, binding field, callback type), from "Bindable objects".
TARGETS: dict[str, tuple[str, str, str]] = {
    "phonenumbers": ("pbx_phone_number", "sms_callback_id", "sms"),
    "pbxmailboxes": ("pbx_mailbox", "callback_id", "voicemail"),
    "pbxfaxes": ("pbx_fax", "callback_id", "fax"),
    "outreach_profiles": ("outreach_profile", "callback_id", "outreach"),
    "pbxgroups": ("pbx_group", "callback_id", "call_alert"),
}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def default_targets() -> dict[str, list[Json]]:
    """Bindable objects; phone numbers are stored in both formats the contract mentions."""
    phone = {"extension": "8000", "sms_extension": "8000", "tags": "", "sms_callback_id": None}
    return {
        "phonenumbers": [
            {**phone, "id": 1, "phonenumber": "8185559876", "tags": "main"},
            {**phone, "id": 2, "phonenumber": "+18185551234"},
            {**phone, "id": 3, "phonenumber": "+18185550100"},
        ],
        "pbxmailboxes": [
            {"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": None},
            {"id": 4, "name": "Billing", "mailbox": "1002", "callback_id": None},
        ],
        "pbxfaxes": [{"id": 5, "name": "Main Fax", "extension": "7001", "callback_id": None}],
        "outreach_profiles": [{"id": 2, "name": "Appointment reminders", "callback_id": None}],
        "pbxgroups": [
            {"id": 9, "name": "Reception", "extension": "8000", "callback_id": None},
            {"id": 10, "name": "Triage", "extension": "8001", "callback_id": None},
        ],
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status)


NOT_AUTHENTICATED = {"errors": ["Not Authenticated"]}
NOT_FOUND = {"errors": ["Not Found"]}


class State:
    """The account, the credentials and the request log; tests read and edit it directly."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the default account, with no tokens, no requests and no knobs set."""
        self.callbacks: dict[int, Json] = {}
        self.targets = default_targets()
        self.requests: list[Json] = []
        self.issued_tokens: list[str] = []
        self.access: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.refresh: set[str] = set()  # unspent refresh tokens
        self.token_lifetime = 3600
        self.latency = 0.0
        self.reject_refresh = False
        self.revoke_access_after: int | None = None  # authorized requests, then 401s
        self._next_id = 100
        self._authorized = 0

    def add_callback(
        self,
        name: str,
        ctype: str,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        headers: str = "",
    ) -> int:
        """Store a callback as if made in the portal; return its id."""
        with self.lock:
            cid = self._next_id
            self._next_id += 1
            self.callbacks[cid] = {
                "id": cid,
                "name": name,
                "callback_type": ctype,
                "url": url,
                "use_basic_auth": username is not None,
                "auth_username": username,
                "auth_password": password,
                "custom_headers": headers,
                "created_at": _now(),
                "updated_at": _now(),
            }
            return cid

    def target(self, kind: str, target_id: int) -> Json:
        """The bindable object ``target_id`` of list ``kind``."""
        return next(t for t in self.targets[kind] if t["id"] == target_id)

    def bind(self, kind: str, target_id: int, callback_id: int | None) -> None:
        """Set a binding as if done in the portal."""
        self.target(kind, target_id)[TARGETS[kind][1]] = callback_id

    def writes(self) -> list[Json]:
        """Recorded requests that change the account (auth excluded), without those of
        apply's account lock (the callback ``ringrx-iac lock``: tests/test_lock.py)."""
        lock_paths = {
            f"/pbxcallbacks/{r.get('answer_id')}"
            for r in self.requests
            if r["method"] == "POST" and _is_lock(r["body"])
        }
        return [
            r
            for r in self.requests
            if r["method"] in WRITE_METHODS
            and not r["path"].startswith("/auth/")
            and not (r["method"] == "POST" and _is_lock(r["body"]))
            and r["path"] not in lock_paths
        ]

    def mint(self) -> Json:
        """A fresh token data object."""
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.lock:
            self.access[access] = time.time() + self.token_lifetime
            self.refresh.add(refresh)
            self.issued_tokens += [access, refresh]
        return {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
        }

    def authorized(self, request: Request) -> bool:
        """Whether the request carries a live ``Bearer`` access token."""
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        with self.lock:
            if self.access.get(token, 0.0) < time.time():
                return False
            self._authorized += 1
            if self.revoke_access_after is not None and self._authorized > self.revoke_access_after:
                self.revoke_access_after = None
                self.access.clear()  # refresh tokens stay valid
                return False
            return True


def _params(request: Request, body: Any) -> Json:
    """Query parameters overlaid with a JSON object body (the contract allows both)."""
    params: Json = dict(request.query_params)
    if isinstance(body, dict):
        params.update(body)
    return params


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def _validate(data: Json, existing: Json | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key in set(data) - CALLBACK_FIELDS:
        errors[key] = ["is not a known attribute"]
    if existing is None:
        for key in ("name", "url", "callback_type"):
            if not data.get(key):
                errors.setdefault(key, []).append("can't be blank")
    name = data.get("name", "x")
    if not isinstance(name, str) or not name or len(name) > 255:
        errors.setdefault("name", []).append("is invalid")
    url = data.get("url", "https://x")
    if not isinstance(url, str) or len(url) > 2048 or urlparse(url).scheme not in ("http", "https"):
        errors.setdefault("url", []).append("is invalid")
    ctype = data.get("callback_type")
    if existing is not None and "callback_type" in data and ctype != existing["callback_type"]:
        errors.setdefault("callback_type", []).append("cannot be changed")
    elif "callback_type" in data and ctype not in CALLBACK_TYPES:
        errors.setdefault("callback_type", []).append("is not included in the list")
    headers = data.get("custom_headers")
    if headers is not None and not isinstance(headers, str):
        errors.setdefault("custom_headers", []).append("is invalid")
    return errors


def _root(body: Any, root: str) -> Json | None:
    """The object under ``root`` when it is the body's only key, else None."""
    if isinstance(body, dict) and set(body) == {root} and isinstance(body[root], dict):
        return body[root]
    return None


# The callback apply keeps as its account lock (README, "One apply at a time").
LOCK_NAME = "ringrx-iac lock"


def _is_lock(body: Any) -> bool:
    return isinstance(body, dict) and (body.get("pbx_callback") or {}).get("name") == LOCK_NAME


def build_app(state: State) -> Starlette:
    """The HTTP API of the contract over ``state``."""

    def route(path: str, methods: list[str], handler: Handler, auth: bool = True) -> Route:
        async def endpoint(request: Request) -> Response:
            entry: Json = {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "body": await _body(request),
                "authorization": request.headers.get("authorization"),
            }
            with state.lock:
                state.requests.append(entry)
            if state.latency:
                await asyncio.sleep(state.latency)
            if auth and not state.authorized(request):
                response: Response = _error(401, NOT_AUTHENTICATED)
            else:
                with state.lock:
                    response = handler(request, entry["body"])
            entry["status"] = response.status_code
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                entry["answer_id"] = json.loads(bytes(response.body)).get("id")
            return response

        return Route(path, endpoint, methods=methods)

    def token(request: Request, body: Any) -> Response:
        p = _params(request, body)
        ok_key = p.get("token") == API_TOKEN and p.get("secret") == API_SECRET
        ok_user = p.get("username") == USERNAME and p.get("password") == PASSWORD
        if ok_key or ok_user:
            return JSONResponse(state.mint())
        return _error(401, {"error": "Not Authenticated"})

    def refresh(request: Request, body: Any) -> Response:
        used = _params(request, body).get("refresh_token")
        if state.reject_refresh or used not in state.refresh:
            return _error(401, {"error": "Not Authenticated"})
        state.refresh.discard(used)  # rotation: a refresh token is spent once used
        return JSONResponse(state.mint())

    def callbacks(request: Request, body: Any) -> Response:
        if request.method == "GET":
            return JSONResponse(
                [copy.deepcopy(state.callbacks[k]) for k in sorted(state.callbacks)]
            )
        data = _root(body, "pbx_callback")
        if data is None:
            return _error(422, {"errors": {"pbx_callback": ["is missing"]}})
        if errors := _validate(data, None):
            return _error(422, {"errors": errors})
        cid = state.add_callback(data["name"], data["callback_type"], data["url"])
        state.callbacks[cid].update(data)
        return JSONResponse(copy.deepcopy(state.callbacks[cid]))

    def callback(request: Request, body: Any) -> Response:
        cb = state.callbacks.get(_int(request.path_params["id"]))
        if cb is None:
            return _error(404, NOT_FOUND)
        if request.method == "GET":
            return JSONResponse(copy.deepcopy(cb))
        if request.method == "DELETE":
            del state.callbacks[cb["id"]]
            for kind, (_, field, _) in TARGETS.items():
                for t in state.targets[kind]:
                    if t[field] == cb["id"]:
                        t[field] = None
            return Response(status_code=204)
        data = _root(body, "pbx_callback")
        if data is None:
            return _error(422, {"errors": {"pbx_callback": ["is missing"]}})
        if errors := _validate(data, cb):
            return _error(422, {"errors": errors})
        cb.update(data, updated_at=_now())
        return JSONResponse(copy.deepcopy(cb))

    def target_list(request: Request, body: Any) -> Response:
        return JSONResponse(copy.deepcopy(state.targets[request.url.path.strip("/")]))

    def target(request: Request, body: Any) -> Response:
        kind = request.url.path.strip("/").split("/")[0]
        root, field, ctype = TARGETS[kind]
        found = [t for t in state.targets[kind] if t["id"] == _int(request.path_params["id"])]
        if not found:
            return _error(404, NOT_FOUND)
        if request.method == "GET":
            return JSONResponse(copy.deepcopy(found[0]))
        data = _root(body, root)
        if data is None or set(data) != {field}:
            return _error(422, {"errors": {root: [f"must hold only {field}"]}})
        value = data[field]
        if value is not None:
            cb = state.callbacks.get(value) if isinstance(value, int) else None
            if cb is None or cb["callback_type"] != ctype:
                return _error(422, {"errors": {field: ["does not name a callback of this type"]}})
        found[0][field] = value
        return JSONResponse(copy.deepcopy(found[0]))

    routes = [
        route("/auth/token", ["POST"], token, auth=False),
        route("/auth/refresh", ["POST"], refresh, auth=False),
        route("/pbxcallbacks", ["GET", "POST"], callbacks),
        route("/pbxcallbacks/{id}", ["GET", "PATCH", "DELETE"], callback),
    ]
    for kind in TARGETS:
        routes.append(route(f"/{kind}", ["GET"], target_list))
        routes.append(route(f"/{kind}/{{id}}", ["GET", "PATCH"], target))
    return Starlette(routes=routes)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(state: State) -> Iterator[str]:
    """Serve ``state`` on loopback in a thread; yield the base URL; stop on exit."""
    port = _free_port()
    config = uvicorn.Config(
        build_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("contract server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
