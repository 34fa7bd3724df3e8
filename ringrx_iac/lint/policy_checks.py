"""Lint checks of the ``policy`` section and of ownership (``previously``).

- RRX204: a callback URL whose host is outside ``policy.allowed_hosts``
- RRX205: an ``allowed_hosts`` entry that is not a host or a leading ``*.`` wildcard
- RRX305: a callback without the header ``policy.require_header`` asks for
- RRX404: a callback without basic auth where ``policy.require_basic_auth`` asks for it
- RRX604: a ``previously`` name that another callback has, or that two callbacks claim
"""

from __future__ import annotations

from ringrx_iac.config.models import CallbackSpec, Config
from ringrx_iac.config.yamlio import KeyPath, SourceMap
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.diagnostics.codes import RULES
from ringrx_iac.policy import DestinationPolicy, check_host_pattern, url_origin


def lint_policy(config: Config, sources: SourceMap) -> list[Diagnostic]:
    """Every policy and ``previously`` finding of ``config``."""
    out: list[Diagnostic] = []
    policy = DestinationPolicy.from_model(config.policy)
    for pos, pattern in enumerate(config.policy.allowed_hosts or []):
        problem = check_host_pattern(pattern)
        if problem:
            out.append(
                RULES["RRX205"].diag(
                    f"policy.allowed_hosts entry {pattern!r}: {problem}",
                    sources.locate(("policy", "allowed_hosts", pos)),
                )
            )
    for index, cb in enumerate(config.callbacks):
        path: KeyPath = ("callbacks", index)
        origin = None if policy.allowed_hosts is None else url_origin(cb.url)
        if origin is not None and "{" not in origin.host and not policy.allows(origin.host):
            offset = max(cb.url.lower().find(origin.host, cb.url.find("://") + 3), 0)
            out.append(
                RULES["RRX204"].diag(
                    f"callback {cb.name!r} sends to host {origin.host!r}, which is not in "
                    "policy.allowed_hosts",
                    sources.locate_offset(path + ("url",), offset),
                )
            )
        header = policy.required_header(cb.type)
        if header and header.lower() not in _sent_headers(config, cb):
            out.append(
                RULES["RRX305"].diag(
                    f"callback {cb.name!r} does not send header {header!r}, which "
                    f"policy.require_header asks of {cb.type} callbacks",
                    sources.locate(path + ("name",)),
                    f'add it: headers: {{{header}: "${{env:NAME}}"}}',
                )
            )
        auth = cb.basic_auth
        if policy.requires_basic_auth(cb.type) and not (auth and auth.username and auth.password):
            out.append(
                RULES["RRX404"].diag(
                    f"callback {cb.name!r} has no basic_auth, which policy.require_basic_auth "
                    f"asks of {cb.type} callbacks",
                    sources.locate(path + ("name",)),
                )
            )
    out += _previously(config, sources)
    return out


def _sent_headers(config: Config, cb: CallbackSpec) -> set[str]:
    """The lower-case names of the headers ``cb`` sends (with a value)."""
    return {name.lower() for name, value in config.effective_headers(cb).items() if value}


def _previously(config: Config, sources: SourceMap) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names = {cb.name: i for i, cb in enumerate(config.callbacks)}
    claimed: dict[str, int] = {}
    for index, cb in enumerate(config.callbacks):
        for pos, old in enumerate(cb.previously):
            where = sources.locate(("callbacks", index, "previously", pos))
            if old in names:
                other = "itself" if names[old] == index else f"callback {old!r}"
                out.append(
                    RULES["RRX604"].diag(
                        f"{cb.name!r} lists {old!r} as a former name, but that is the name of "
                        f"{other} in this configuration",
                        where,
                        "remove it from 'previously'",
                    )
                )
                continue
            first = claimed.setdefault(old, index)
            if first != index:
                out.append(
                    RULES["RRX604"].diag(
                        f"former name {old!r} is claimed by {cb.name!r} and by "
                        f"{config.callbacks[first].name!r}",
                        where,
                    )
                )
    return out
