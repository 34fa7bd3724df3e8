"""Pydantic models of the configuration language (``version: 1``).

The models check shape and types only; meaning (tokens, bindings, URLs, headers) is the
linter's job, so that every problem can be reported with a stable code and a fix hint.
Unknown keys are rejected everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ringrx_iac.catalog import CALLBACK_TYPES

CallbackTypeName = Literal["sms", "voicemail", "fax", "cdr", "recording", "outreach", "call_alert"]
assert set(CallbackTypeName.__args__) == set(CALLBACK_TYPES)  # type: ignore[attr-defined]


class StrictModel(BaseModel):
    """Base model: unknown keys are errors, values are not coerced between types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BasicAuth(StrictModel):
    """HTTP basic auth RingRx sends with each event. Not token-replaced by RingRx."""

    username: str | None = Field(default=None, description="Sent as is; never token-replaced.")
    password: str | None = Field(
        default=None,
        description="A secret reference such as ${env:NAME} or ${file:PATH}; a literal is a warning.",
    )


class Bind(StrictModel):
    """Targets a callback is bound to, by natural key. One key, matching the callback type."""

    phone_numbers: list[str] | None = Field(
        default=None, description="sms: phone numbers, any common format (compared as E.164)."
    )
    mailboxes: list[str] | None = Field(
        default=None, description="voicemail: mailbox numbers (e.g. '1001') or names."
    )
    fax_services: list[str] | None = Field(
        default=None, description="fax: fax service names or extensions."
    )
    outreach_profiles: list[str] | None = Field(
        default=None, description="outreach: outreach profile names."
    )
    groups: list[str] | None = Field(
        default=None, description="call_alert: group names or extensions."
    )

    def items(self) -> list[tuple[str, list[str]]]:
        """The bind keys that are set, with their targets, in declaration order."""
        return [(k, v) for k, v in self.__dict__.items() if v is not None]


class CallbackSpec(StrictModel):
    """One desired callback."""

    name: str = Field(min_length=1, max_length=255, description="Unique name; the match key.")
    type: CallbackTypeName = Field(description="RingRx callback type; cannot change in place.")
    url: str = Field(
        min_length=1, max_length=2048, description="Destination URL with {token} placeholders."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Custom headers; values are token-replaced and may hold secret references.",
    )
    basic_auth: BasicAuth | None = None
    bind: Bind | None = None
    allow_insecure_url: bool = Field(
        default=False, description="Allow an http:// URL (events carry patient data)."
    )
    previously: list[str] = Field(
        default_factory=list,
        description="Former names: a live callback of one of these names is renamed in place "
        "(same id and bindings) instead of deleted and created again.",
    )
    override: bool = Field(
        default=False,
        description="Replace the callback of this name from the baseline this file extends.",
    )


class Safety(StrictModel):
    """Guards for apply."""

    max_delete_percent: float = Field(
        default=30,
        ge=0,
        le=100,
        description="Refuse when deletes and replacements exceed this share of managed callbacks.",
    )
    protected: list[str] = Field(
        default_factory=list, description="Callback names apply never deletes or replaces."
    )
    max_reroute_percent: float = Field(
        default=30,
        ge=0,
        le=100,
        description="Refuse when more than this share of managed callbacks changes destination "
        "origin (scheme, host or port); reroutes to policy.allowed_hosts do not count.",
    )
    max_unbind_percent: float = Field(
        default=30,
        ge=0,
        le=100,
        description="Refuse when more than this share of the targets bound to managed callbacks "
        "loses its callback (unbind, or delete of its callback).",
    )
    min_impact: int = Field(
        default=3,
        ge=0,
        description="A floor: the reroute and unbind thresholds apply only when more than this "
        "many callbacks (or targets) are affected.",
    )


class Policy(StrictModel):
    """Where events may go and how they must be authenticated (e.g. the BAA list)."""

    allowed_hosts: list[str] | None = Field(
        default=None,
        description="Hosts callback URLs may point at: exact ('hooks.example.com') or a leading "
        "wildcard ('*.crm.example.org'). Unset: any host.",
    )
    require_https: bool = Field(
        default=True,
        description="Callback URLs must use https:// (allow_insecure_url is the per-callback "
        "exception).",
    )
    require_basic_auth: bool | list[CallbackTypeName] = Field(
        default=False,
        description="Callbacks must use basic auth: true for every type, or a list of types.",
    )
    require_header: str | dict[CallbackTypeName, str] | None = Field(
        default=None,
        description="A header every callback must send (e.g. X-Api-Key), or a mapping "
        "type -> header name.",
    )


ManageMode = Literal["full", "no-purge"]


class ManageGlobs(StrictModel):
    """Per-glob ownership: live callbacks whose names match are never deleted."""

    no_purge: list[str] = Field(
        default_factory=list,
        alias="no-purge",
        description="Globs on live callback names never deleted when the YAML lacks them.",
    )


class Defaults(StrictModel):
    """Values merged into every callback (the callback's own values win)."""

    headers: dict[str, str] = Field(default_factory=dict)
    public_headers: list[str] = Field(
        default_factory=list,
        description="Header names whose live values plan and drift may show (e.g. X-Source); "
        "other live header values show as '(live value hidden)' unless the configuration "
        "holds the same value.",
    )


# `callbacks:` or `ignore:` with nothing after it is YAML null, which the loader takes as an
# empty list; the schema says so too, so editors do not flag a file the tool accepts.
_EMPTY_OK: dict[str, Any] = {"type": ["array", "null"]}


class Config(StrictModel):
    """A whole configuration: one file, or the merge of a directory of files."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="ringrx-iac configuration",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    version: Literal[1] = Field(description="Configuration language version.")
    extends: str | list[str] | None = Field(
        default=None,
        description="Baseline configuration(s) this one builds on: files or directories, "
        "relative to this file. Callbacks named in both need 'override: true'.",
    )
    ignore: list[str] = Field(
        default_factory=list,
        description="Globs on names of live callbacks left alone.",
        json_schema_extra=_EMPTY_OK,
    )
    safety: Safety = Field(default_factory=Safety)
    policy: Policy = Field(default_factory=Policy)
    manage: ManageMode | ManageGlobs = Field(
        default="full",
        description="'full' (default): live callbacks not in the YAML are deleted; 'no-purge': "
        "they are left alone; or {no-purge: [globs]} for the matching names only.",
    )
    defaults: Defaults = Field(default_factory=Defaults)
    callbacks: list[CallbackSpec] = Field(default_factory=list, json_schema_extra=_EMPTY_OK)

    def effective_headers(self, callback: CallbackSpec) -> dict[str, str]:
        """Headers RingRx should send for ``callback``: defaults, then its own."""
        return {**self.defaults.headers, **callback.headers}

    def no_purge_globs(self) -> tuple[str, ...]:
        """Globs of live names never deleted (``("*",)`` for ``manage: no-purge``)."""
        if self.manage == "no-purge":
            return ("*",)
        if isinstance(self.manage, ManageGlobs):
            return tuple(self.manage.no_purge)
        return ()
