"""The simulator's RingRx API over real loopback HTTP: auth, callbacks CRUD, binding."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from ringrx_iac.simulator.seed import default_seed
from ringrx_iac.simulator.server import SimulatorServer

DEMO_KEY = {"token": "demo-api-token", "secret": "demo-api-secret"}
DOCTOR_OTP_SECRET = next(u for u in default_seed()["users"] if u["username"] == "doctor")[
    "otp_secret"
]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture()
def http(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url) as client:
        client.post("/_sim/reset").raise_for_status()
        client.post("/_sim/faults", json={"fail_next": [], "latency": 0}).raise_for_status()
        yield client


def login(http: httpx.Client, **creds: str) -> dict[str, str]:
    r = http.post("/auth/token", params=creds or DEMO_KEY)
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def new_callback(http: httpx.Client, headers: dict[str, str], **fields: object) -> dict:
    body: dict[str, object] = {
        "name": "CRM inbound SMS",
        "callback_type": "sms",
        "url": "https://h.example/sms",
    }
    body.update(fields)
    r = http.post("/pbxcallbacks", headers=headers, json={"pbx_callback": body})
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------- auth


def test_api_key_by_query_and_by_json(http: httpx.Client) -> None:
    for r in (
        http.post("/auth/token", params=DEMO_KEY),
        http.post("/auth/token", json=DEMO_KEY),
    ):
        assert r.status_code == 200
        data = r.json()
        assert data["token_type"] == "Bearer"
        assert data["expires_in"] == 3600
        assert data["access_token"].count(".") == 2  # a JWT
        assert data["refresh_token"]


def test_bad_credentials_answer_401_error_body(http: httpx.Client) -> None:
    for creds in (
        {"token": "demo-api-token", "secret": "wrong"},
        {"token": "nope", "secret": "demo-api-secret"},
        {"username": "demo", "password": "wrong"},
        {"username": "ghost", "password": "x"},
        {},
    ):
        r = http.post("/auth/token", json=creds)
        assert r.status_code == 401
        assert r.json() == {"error": "Not Authenticated"}


def test_user_login_without_2fa(http: httpx.Client) -> None:
    headers = login(http, username="demo", password="demo-password")
    assert http.get("/pbxcallbacks", headers=headers).status_code == 200


def test_2fa_user_needs_valid_otp(http: httpx.Client) -> None:
    creds = {"username": "doctor", "password": "doctor-password"}
    r = http.post("/auth/token", json=creds)
    assert r.status_code == 401
    assert r.json() == {"error": "Not Authenticated", "otp_required": True}
    r = http.post("/auth/token", json={**creds, "otp": "000000"})
    assert r.json() == {"error": "Not Authenticated", "otp_required": True}
    otp = pyotp.TOTP(DOCTOR_OTP_SECRET).now()
    r = http.post("/auth/token", json={**creds, "otp": otp})
    assert r.status_code == 200
    # A wrong password is a plain failure, whatever the otp.
    r = http.post("/auth/token", json={"username": "doctor", "password": "x", "otp": otp})
    assert r.json() == {"error": "Not Authenticated"}


def test_api_key_never_asks_for_otp(http: httpx.Client) -> None:
    r = http.post("/auth/token", json={**DEMO_KEY, "otp": "garbage"})
    assert r.status_code == 200


def test_protected_routes_need_a_valid_bearer_token(http: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eA=="}):
        r = http.get("/pbxcallbacks", headers=headers)
        assert r.status_code == 401
        assert r.json() == {"errors": ["Not Authenticated"]}


def test_access_token_expires(sim: SimulatorServer, http: httpx.Client) -> None:
    http.post("/_sim/faults", json={"token_lifetime": 1}).raise_for_status()
    try:
        r = http.post("/auth/token", json=DEMO_KEY)
        assert r.json()["expires_in"] == 1
        headers = {"Authorization": "Bearer " + r.json()["access_token"]}
        assert http.get("/pbxcallbacks", headers=headers).status_code == 200
        deadline = time.monotonic() + 5
        while http.get("/pbxcallbacks", headers=headers).status_code == 200:
            assert time.monotonic() < deadline, "token never expired"
            time.sleep(0.2)
        assert http.get("/pbxcallbacks", headers=headers).json() == {
            "errors": ["Not Authenticated"]
        }
    finally:
        http.post("/_sim/faults", json={"token_lifetime": 3600}).raise_for_status()


def test_refresh_rotates_and_spends(http: httpx.Client) -> None:
    first = http.post("/auth/token", json=DEMO_KEY).json()
    r = http.post("/auth/refresh", params={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    headers = {"Authorization": "Bearer " + second["access_token"]}
    assert http.get("/pbxcallbacks", headers=headers).status_code == 200
    # The used refresh token is spent.
    again = http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    assert again.json() == {"error": "Not Authenticated"}
    # The rotated one works once, by JSON body too.
    assert http.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).is_success
    for bad in ({}, {"refresh_token": "bogus"}):
        assert http.post("/auth/refresh", json=bad).status_code == 401


def test_refresh_token_expires() -> None:
    with (
        SimulatorServer(refresh_lifetime=0.2) as sim,
        httpx.Client(base_url=sim.base_url) as http,
    ):
        token = http.post("/auth/token", json=DEMO_KEY).json()["refresh_token"]
        time.sleep(0.4)
        assert http.post("/auth/refresh", json={"refresh_token": token}).status_code == 401


def test_deleting_an_api_key_kills_its_tokens(http: httpx.Client) -> None:
    data = http.post("/auth/token", json=DEMO_KEY).json()
    headers = {"Authorization": "Bearer " + data["access_token"]}
    other = login(http, username="demo", password="demo-password")
    r = http.delete("/myphones/api_key/demo-api-token", headers=headers)
    assert r.status_code == 204
    assert http.get("/pbxcallbacks", headers=headers).status_code == 401
    assert (
        http.post("/auth/refresh", json={"refresh_token": data["refresh_token"]}).status_code == 401
    )
    assert http.post("/auth/token", json=DEMO_KEY).status_code == 401
    # Tokens minted from other credentials are unaffected.
    assert http.get("/pbxcallbacks", headers=other).status_code == 200
    assert http.delete("/myphones/api_key/demo-api-token", headers=other).status_code == 404
    keys = http.get("/_sim/state").json()["api_keys"]
    assert "demo-api-token" not in [k["token"] for k in keys]
    assert all("secret" not in k for k in keys)


# --------------------------------------------------------------------------- callbacks


def test_callback_crud(http: httpx.Client) -> None:
    h = login(http)
    assert http.get("/pbxcallbacks", headers=h).json() == []
    cb = new_callback(
        http,
        h,
        use_basic_auth=True,
        auth_username="ringrx",
        auth_password="s3cret",
        custom_headers="AuthToken:abc\r\nX-Env:prod",
    )
    assert isinstance(cb["id"], int)
    assert cb["auth_password"] == "s3cret"  # the contract: returned in plaintext
    assert cb["created_at"] and cb["updated_at"]
    assert http.get(f"/pbxcallbacks/{cb['id']}", headers=h).json() == cb
    assert http.get("/pbxcallbacks", headers=h).json() == [cb]
    r = http.patch(
        f"/pbxcallbacks/{cb['id']}", headers=h, json={"pbx_callback": {"url": "http://h/2"}}
    )
    assert r.status_code == 200
    assert r.json() == {**cb, "url": "http://h/2", "updated_at": r.json()["updated_at"]}
    assert http.delete(f"/pbxcallbacks/{cb['id']}", headers=h).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        r = http.request(
            method, f"/pbxcallbacks/{cb['id']}", headers=h, json={"pbx_callback": {"name": "x"}}
        )
        assert r.status_code == 404
        assert r.json() == {"errors": ["Not Found"]}
    assert http.get("/pbxcallbacks/abc", headers=h).status_code == 404


def test_names_are_not_unique(http: httpx.Client) -> None:
    h = login(http)
    a = new_callback(http, h, name="Same")
    b = new_callback(http, h, name="Same")
    assert a["id"] != b["id"]
    assert len(http.get("/pbxcallbacks", headers=h).json()) == 2


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"callback_type": "sms", "url": "https://x"}, {"name": ["can't be blank"]}),
        (
            {"name": "n" * 256, "callback_type": "sms", "url": "https://x"},
            {"name": ["is too long (maximum is 255 characters)"]},
        ),
        ({"name": "n", "url": "https://x"}, {"callback_type": ["can't be blank"]}),
        ({"name": "n", "callback_type": "email", "url": "https://x"}, {"callback_type": None}),
        ({"name": "n", "callback_type": "sms"}, {"url": ["can't be blank"]}),
        ({"name": "n", "callback_type": "sms", "url": "ftp://x/y"}, {"url": None}),
        ({"name": "n", "callback_type": "sms", "url": "not a url"}, {"url": None}),
        ({"name": "n", "callback_type": "sms", "url": "https://x/" + "a" * 2048}, {"url": None}),
        ({"name": "n", "type": "sms", "url": "https://x"}, {"type": ["is not permitted"]}),
        ({"name": "n", "callback_type": "sms", "url": "https://x", "use_basic_auth": "yes"}, None),
    ],
)
def test_create_validations(http: httpx.Client, body: dict, errors: dict | None) -> None:
    h = login(http)
    r = http.post("/pbxcallbacks", headers=h, json={"pbx_callback": body})
    assert r.status_code == 422
    got = r.json()["errors"]
    assert isinstance(got, dict)
    if errors:
        for field, messages in errors.items():
            assert field in got
            if messages is not None:
                assert got[field] == messages
    assert http.get("/pbxcallbacks", headers=h).json() == []


def test_max_lengths_are_accepted(http: httpx.Client) -> None:
    h = login(http)
    url = "https://x/" + "a" * (2048 - len("https://x/"))
    new_callback(http, h, name="n" * 255, url=url)


def test_root_key_is_required(http: httpx.Client) -> None:
    h = login(http)
    fields = {"name": "n", "callback_type": "sms", "url": "https://x"}
    for body in (fields, {"callback": fields}, {"pbx_callback": fields, "extra": 1}, [1]):
        r = http.post("/pbxcallbacks", headers=h, json=body)
        assert r.status_code == 422
        assert isinstance(r.json()["errors"], dict)
    r = http.post("/pbxcallbacks", headers=h, content=b"{not json")
    assert r.status_code == 422


def test_type_cannot_change(http: httpx.Client) -> None:
    h = login(http)
    cb = new_callback(http, h)
    r = http.patch(
        f"/pbxcallbacks/{cb['id']}", headers=h, json={"pbx_callback": {"callback_type": "fax"}}
    )
    assert r.status_code == 422
    assert r.json() == {"errors": {"callback_type": ["cannot be changed"]}}
    # Sending the same type is not a change.
    r = http.patch(
        f"/pbxcallbacks/{cb['id']}", headers=h, json={"pbx_callback": {"callback_type": "sms"}}
    )
    assert r.status_code == 200


def test_patch_validates_given_fields_only(http: httpx.Client) -> None:
    h = login(http)
    cb = new_callback(http, h)
    path = f"/pbxcallbacks/{cb['id']}"
    r = http.patch(path, headers=h, json={"pbx_callback": {"url": "gopher://x"}})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["url"]
    r = http.patch(path, headers=h, json={"pbx_callback": {"name": ""}})
    assert r.json()["errors"] == {"name": ["can't be blank"]}
    assert http.get(path, headers=h).json() == cb


def test_read_only_user_may_read_but_not_write(http: httpx.Client) -> None:
    admin = login(http)
    cb = new_callback(http, admin)
    for h in (
        login(http, username="auditor", password="auditor-password"),
        login(http, token="auditor-api-token", secret="auditor-api-secret"),
    ):
        assert http.get("/pbxcallbacks", headers=h).status_code == 200
        body = {"pbx_callback": {"name": "x", "callback_type": "sms", "url": "https://x"}}
        for r in (
            http.post("/pbxcallbacks", headers=h, json=body),
            http.patch(f"/pbxcallbacks/{cb['id']}", headers=h, json=body),
            http.delete(f"/pbxcallbacks/{cb['id']}", headers=h),
            http.patch(
                "/phonenumbers/7", headers=h, json={"pbx_phone_number": {"sms_callback_id": None}}
            ),
            http.delete("/myphones/api_key/demo-api-token", headers=h),
        ):
            assert r.status_code == 403
            assert r.json() == {"errors": ["Forbidden"]}
    assert len(http.get("/pbxcallbacks", headers=admin).json()) == 1


# --------------------------------------------------------------------------- targets


def test_seeded_target_lists(http: httpx.Client) -> None:
    h = login(http)
    numbers = http.get("/phonenumbers", headers=h).json()
    assert {n["phonenumber"] for n in numbers} == {"+18185559876", "8185551234", "+18185550100"}
    main = next(n for n in numbers if n["phonenumber"] == "+18185559876")
    assert main["extension"] == "8000"
    assert {"sms_extension", "tags", "sms_callback_id"} <= set(main)
    mailboxes = http.get("/pbxmailboxes", headers=h).json()
    assert {(m["mailbox"], m["name"]) for m in mailboxes} == {
        ("1001", "Front desk"),
        ("1002", "Billing"),
    }
    assert [(f["name"], f["extension"]) for f in http.get("/pbxfaxes", headers=h).json()] == [
        ("Main Fax", "7001")
    ]
    profiles = http.get("/outreach_profiles", headers=h).json()
    assert {p["name"] for p in profiles} == {"Appointment reminders", "Recalls"}
    groups = http.get("/pbxgroups", headers=h).json()
    assert {(g["name"], g["extension"]) for g in groups} == {
        ("Reception", "8000"),
        ("Triage", "8100"),
    }
    assert all(x["callback_id"] is None for x in mailboxes + profiles + groups)


@pytest.mark.parametrize(
    ("path", "root", "field", "good_type"),
    [
        ("/phonenumbers/7", "pbx_phone_number", "sms_callback_id", "sms"),
        ("/pbxmailboxes/3", "pbx_mailbox", "callback_id", "voicemail"),
        ("/pbxfaxes/5", "pbx_fax", "callback_id", "fax"),
        ("/outreach_profiles/2", "outreach_profile", "callback_id", "outreach"),
        ("/pbxgroups/9", "pbx_group", "callback_id", "call_alert"),
    ],
)
def test_binding_is_type_checked(
    http: httpx.Client, path: str, root: str, field: str, good_type: str
) -> None:
    h = login(http)
    good = new_callback(http, h, callback_type=good_type)
    wrong = new_callback(http, h, callback_type="cdr" if good_type != "cdr" else "sms")
    before = http.get(path, headers=h).json()
    r = http.patch(path, headers=h, json={root: {field: wrong["id"]}})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]
    r = http.patch(path, headers=h, json={root: {field: 99999}})
    assert r.status_code == 422
    r = http.patch(path, headers=h, json={root: {field: good["id"]}})
    assert r.status_code == 200
    assert r.json() == {**before, field: good["id"]}
    # Only the binding field may be sent.
    r = http.patch(path, headers=h, json={root: {field: None, "name": "x"}})
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["is not permitted"]}
    r = http.patch(path, headers=h, json={"wrong_root": {field: None}})
    assert r.status_code == 422
    r = http.patch(path, headers=h, json={root: {field: None}})
    assert r.json()[field] is None
    assert (
        http.patch(
            path.rsplit("/", 1)[0] + "/424242", headers=h, json={root: {field: None}}
        ).status_code
        == 404
    )


def test_delete_clears_bindings_everywhere(http: httpx.Client) -> None:
    h = login(http)
    cb = new_callback(http, h)
    for number_id in (7, 8):
        http.patch(
            f"/phonenumbers/{number_id}",
            headers=h,
            json={"pbx_phone_number": {"sms_callback_id": cb["id"]}},
        ).raise_for_status()
    assert http.delete(f"/pbxcallbacks/{cb['id']}", headers=h).status_code == 204
    numbers = http.get("/phonenumbers", headers=h).json()
    assert all(n["sms_callback_id"] is None for n in numbers)


def test_rebinding_moves_the_index(http: httpx.Client) -> None:
    h = login(http)
    a = new_callback(http, h, name="a")
    b = new_callback(http, h, name="b")
    body = {"pbx_phone_number": {"sms_callback_id": a["id"]}}
    http.patch("/phonenumbers/7", headers=h, json=body).raise_for_status()
    body = {"pbx_phone_number": {"sms_callback_id": b["id"]}}
    http.patch("/phonenumbers/7", headers=h, json=body).raise_for_status()
    http.delete(f"/pbxcallbacks/{a['id']}", headers=h).raise_for_status()
    assert http.get("/phonenumbers/7", headers=h).json()["sms_callback_id"] == b["id"]


async def test_parallel_creates_get_unique_ids(sim: SimulatorServer, http: httpx.Client) -> None:
    import asyncio

    h = login(http)
    body = {"pbx_callback": {"name": "p", "callback_type": "cdr", "url": "https://x"}}
    async with httpx.AsyncClient(base_url=sim.base_url, headers=h) as client:
        answers = await asyncio.gather(
            *(client.post("/pbxcallbacks", json=body) for _ in range(40))
        )
    ids = [r.json()["id"] for r in answers]
    assert len(set(ids)) == 40
    assert len(http.get("/pbxcallbacks", headers=h).json()) == 40


def test_admin_state_masks_secrets_unless_asked() -> None:
    from fakes import admin

    from ringrx_iac.simulator.server import SimulatorServer

    seed = {
        "users": [{"username": "demo", "password": "demo-pw-7781"}],
        "api_keys": [{"token": "t", "secret": "key-secret-7782", "user": "demo"}],
        "callbacks": [
            {
                "id": 1,
                "name": "A",
                "callback_type": "cdr",
                "url": "https://h/a",
                "use_basic_auth": True,
                "auth_username": "u",
                "auth_password": "cb-pw-7783",
                "custom_headers": "X-Api-Key:hdr-key-7784\r\nX-Src:crm\r\nX-T:Bearer tok-7785",
            }
        ],
    }
    with SimulatorServer(seed=seed) as sim:
        masked = str(admin(sim, "GET", "/state"))
        for secret in ("demo-pw-7781", "key-secret-7782", "cb-pw-7783", "hdr-key-7784", "tok-7785"):
            assert secret not in masked
        assert "X-Src:crm" in masked
        full = str(admin(sim, "GET", "/state?secrets=1"))
        for secret in ("demo-pw-7781", "key-secret-7782", "cb-pw-7783", "hdr-key-7784", "tok-7785"):
            assert secret in full
