"""A tiny in-process fake of the RingRx API for `httpx.MockTransport` unit tests of the client.

It is deliberately small: tests script its behaviour through ``faults`` (a queue of callables
per ``(method, path)``) and read ``requests`` to see what the client sent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx

from ringrx_iac.api import endpoints
from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ApiKeyCredentials, ClientSettings, Credentials
from ringrx_iac.api.retry import RetryPolicy

BASE = "http://127.0.0.1:9"
Fault = Callable[[httpx.Request], httpx.Response | None]


class FakeRingRx:
    """State plus a request handler; ``faults[(method, path)]`` is consumed one per request."""

    def __init__(self, *, expires_in: Any = 3600, rotate_refresh: bool = True) -> None:
        self.expires_in = expires_in
        # False: /auth/refresh answers without a new refresh_token and the old one stays valid.
        self.rotate_refresh = rotate_refresh
        self.requests: list[httpx.Request] = []
        self.faults: dict[tuple[str, str], list[Fault]] = defaultdict(list)
        self.minted = 0
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.callbacks: dict[int, dict[str, Any]] = {}
        self.next_id = 100
        self.targets: dict[str, list[dict[str, Any]]] = {kind: [] for kind in endpoints.TARGETS}
        self.reject_credentials = False

    # -- helpers for tests ---------------------------------------------------------------

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    def body(self, index: int) -> Any:
        return json.loads(self.requests[index].content)

    def add_callback(self, **wire: Any) -> dict[str, Any]:
        self.next_id += 1
        item = {"id": self.next_id, **wire}
        self.callbacks[self.next_id] = item
        return item

    def expire_all_access_tokens(self) -> None:
        self.valid_access.clear()

    def _mint(self, *, with_refresh: bool = True) -> httpx.Response:
        self.minted += 1
        access, refresh = f"access-{self.minted}", f"refresh-{self.minted}"
        self.valid_access.add(access)
        data: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.expires_in,
        }
        if with_refresh:
            self.valid_refresh.add(refresh)
            data["refresh_token"] = refresh
        return httpx.Response(200, json=data)

    # -- the handler ---------------------------------------------------------------------

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.faults.get((request.method, request.url.path))
        if queue:
            answer = queue.pop(0)(request)
            if answer is not None:
                return answer
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        if path == endpoints.TOKEN_PATH:
            if self.reject_credentials:
                return httpx.Response(401, json={"error": "Not Authenticated"})
            return self._mint()
        if path == endpoints.REFRESH_PATH:
            token = json.loads(request.content).get("refresh_token")
            if token not in self.valid_refresh:
                return httpx.Response(401, json={"error": "Not Authenticated"})
            if not self.rotate_refresh:
                return self._mint(with_refresh=False)
            self.valid_refresh.discard(token)
            return self._mint()
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_access:
            return httpx.Response(401, json={"errors": ["Not Authenticated"]})
        if path == endpoints.CALLBACKS_PATH and method == "GET":
            return httpx.Response(200, json=list(self.callbacks.values()))
        if path == endpoints.CALLBACKS_PATH and method == "POST":
            fields = json.loads(request.content)[endpoints.CALLBACK_ROOT_KEY]
            return httpx.Response(200, json=self.add_callback(**fields))
        if path.startswith(endpoints.CALLBACKS_PATH + "/"):
            cb_id = int(path.rsplit("/", 1)[1])
            if cb_id not in self.callbacks:
                return httpx.Response(404, json={"errors": ["Not Found"]})
            if method == "DELETE":
                del self.callbacks[cb_id]
                return httpx.Response(204)
            if method == "PATCH":
                fields = json.loads(request.content)[endpoints.CALLBACK_ROOT_KEY]
                self.callbacks[cb_id].update(fields)
            return httpx.Response(200, json=self.callbacks[cb_id])
        for kind, target in endpoints.TARGETS.items():
            if path == target.list_path and method == "GET":
                return httpx.Response(200, json=self.targets[kind])
            if path.startswith(target.list_path + "/") and method == "PATCH":
                target_id = int(path.rsplit("/", 1)[1])
                for item in self.targets[kind]:
                    if item["id"] == target_id:
                        item.update(json.loads(request.content)[target.root_key])
                        return httpx.Response(200, json=item)
                return httpx.Response(404, json={"errors": ["Not Found"]})
        return httpx.Response(404, json={"errors": ["Not Found"]})


class Sleeps:
    """A fake ``asyncio.sleep`` that records delays and advances a fake clock."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1000.0

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay

    def clock(self) -> float:
        return self.now


def make_client(
    fake: FakeRingRx,
    *,
    credentials: Credentials | None = None,
    read_only: bool = False,
    parallelism: int = 8,
    retry: RetryPolicy | None = None,
    sleeps: Sleeps | None = None,
    debug: bool = False,
    max_rate: float | None = None,
) -> RingRxClient:
    """A client wired to ``fake`` through MockTransport, with fake sleep and clock."""
    sleeps = sleeps or Sleeps()
    settings = ClientSettings(
        base_url=BASE,
        credentials=credentials or ApiKeyCredentials("key-id", "key-secret"),
        parallelism=parallelism,
        read_only=read_only,
        debug=debug,
        retry=retry or RetryPolicy(),
        max_rate=max_rate,
    )
    return RingRxClient(
        settings,
        transport=httpx.MockTransport(fake),
        sleep=sleeps,
        clock=sleeps.clock,
        rng=lambda: 1.0,
    )
