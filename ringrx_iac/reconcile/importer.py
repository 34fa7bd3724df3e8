"""``import``: YAML for the live account, with secrets replaced by ``${env:...}`` references.

Round trip: import, set the listed variables to the live values, plan -> no changes.
A live secret is never written into the YAML: secret-named headers, header values that
look like credentials (``Bearer ...``, long random tokens) and passwords become
``${env:...}`` references. Live header text that looks like a reference (``${env:X}``) is
escaped as ``$${env:X}`` so it stays literal text and is never resolved locally. Config files are rendered by Jinja2 before
they are parsed, so a live value holding ``{{``, ``{%`` or ``{#`` is written with each
marker wrapped in ``{%raw%}...{%endraw%}``: it renders back to the live value.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ringrx_iac.api.endpoints import TARGETS
from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.config.secrets import escape
from ringrx_iac.reconcile.live import LiveCallback, LiveState, LiveTarget, normalise
from ringrx_iac.sensitive import is_secret_header_name, looks_like_credential

SCHEMA_FILE = "ringrx-iac.schema.json"
_JINJA_RE = re.compile(r"\{[{%#]")


class ImportProblem(Exception):
    """The live account cannot be written as a valid config; the message says why."""


@dataclass
class ImportResult:
    text: str
    count: int
    variables: list[str] = field(default_factory=list)


def jinja_literal(value: str) -> str:
    """``value`` as config text that Jinja2 renders back to ``value`` (markers wrapped in raw).

    The raw tags hold no space, quote or backslash, so any YAML quoting leaves them intact;
    a value that needed them is double-quoted so its YAML form does not depend on them.
    """
    if not _JINJA_RE.search(value):
        return value
    return DoubleQuotedScalarString(
        _JINJA_RE.sub(lambda m: "{%raw%}" + m.group(0) + "{%endraw%}", value)
    )


def slug(text: str) -> str:
    """``"CRM inbound SMS"`` -> ``"CRM_INBOUND_SMS"`` (for variable names)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "X"


def secret_variable(callback_slug: str, field_name: str) -> str:
    return f"RINGRX_SECRET_{callback_slug}_{slug(field_name)}"


def _bind_key(live: LiveState, target: LiveTarget) -> str:
    """The first natural key naming ``target`` uniquely (its display key when it can)."""
    if len(live.find_target(target.kind, target.display)) == 1:
        return target.display
    for key in TARGETS[target.kind].natural_keys:
        value = target.keys.get(key)
        if value and live.find_target(target.kind, value) == [target]:
            return value
    return target.display


def schema_reference(out_dir: Path) -> str | None:
    """A relative path from ``out_dir`` to a real ``ringrx-iac.schema.json``, or None.

    Looks in ``out_dir`` and each parent, directly and in a ``schemas/`` folder (the layout
    of this repository; ``ringrx-iac schema > ringrx-iac.schema.json`` makes one).
    """
    start = out_dir.resolve()
    for folder in (start, *start.parents):
        for candidate in (folder / SCHEMA_FILE, folder / "schemas" / SCHEMA_FILE):
            if candidate.is_file():
                return Path(os.path.relpath(candidate, start)).as_posix()
    return None


def import_yaml(account: RemoteAccount, schema: str | None = None) -> ImportResult:
    """Render the live account as a config file (text), with the variables to set.

    ``schema``: the path of the JSON Schema for the ``yaml-language-server`` comment
    (see :func:`schema_reference`); no such comment without it.
    """
    live = normalise(account)
    names: dict[str, list[LiveCallback]] = {}
    for cb in live.callbacks:
        names.setdefault(cb.name, []).append(cb)
    dupes = {n: cbs for n, cbs in names.items() if len(cbs) > 1}
    if dupes:
        listed = "; ".join(
            f"{n!r} (ids {', '.join(str(c.id) for c in cbs)})" for n, cbs in sorted(dupes.items())
        )
        raise ImportProblem(
            f"the account has callbacks sharing a name: {listed}; callbacks are matched by "
            "name, so import cannot tell which one is meant. 'ringrx-iac apply' can fix it: "
            "with a configuration that defines (or drops) the name, the plan keeps the best "
            "match and deletes the others. Or rename or delete the extras in the RingRx "
            "portal, then import again"
        )
    bound: dict[object, list[LiveTarget]] = {}
    for target in live.all_targets():
        if target.callback_id is not None:
            bound.setdefault(target.callback_id, []).append(target)

    result = ImportResult(text="", count=len(live.callbacks))
    used_slugs: set[str] = set()
    callbacks = CommentedSeq()
    for cb in sorted(live.callbacks, key=lambda c: (c.name, str(c.id))):
        cb_slug = slug(cb.name)
        while cb_slug in used_slugs:
            cb_slug += "_" + slug(str(cb.id))
        used_slugs.add(cb_slug)
        callbacks.append(_callback(cb, cb_slug, bound.get(cb.id, []), live, result))

    doc = CommentedMap()
    doc["version"] = 1
    doc["callbacks"] = callbacks
    header = [f"yaml-language-server: $schema={schema}"] if schema else []
    header.append("Imported from the live RingRx account by 'ringrx-iac import'.")
    if result.variables:
        header.append("Secrets are not written here. Set these variables before plan/apply:")
        header += [f"  {name}" for name in result.variables]
    doc.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(doc, out)
    result.text = out.getvalue()
    return result


def _callback(
    cb: LiveCallback, cb_slug: str, targets: list[LiveTarget], live: LiveState, result: ImportResult
) -> CommentedMap:
    item = CommentedMap()
    item["name"] = jinja_literal(cb.name)
    item["type"] = cb.type
    item["url"] = jinja_literal(cb.url)
    if cb.url.lower().startswith("http://"):
        item["allow_insecure_url"] = True
    if cb.headers:
        headers = CommentedMap()
        for name, value in cb.headers.items():
            if is_secret_header_name(name) or looks_like_credential(value):
                var = secret_variable(cb_slug, name)
                result.variables.append(var)
                headers[jinja_literal(name)] = f"${{env:{var}}}"
            else:  # live text that looks like a reference stays literal: ${ -> $${
                headers[jinja_literal(name)] = jinja_literal(escape(value))
        item["headers"] = headers
    if cb.use_basic_auth:
        auth = CommentedMap()
        if cb.username:
            auth["username"] = jinja_literal(cb.username)
        var = secret_variable(cb_slug, "password")
        result.variables.append(var)
        auth["password"] = f"${{env:{var}}}"
        item["basic_auth"] = auth
    if targets:
        bind = CommentedMap()
        for kind in sorted({t.kind for t in targets}):
            keys = sorted(_bind_key(live, t) for t in targets if t.kind == kind)
            bind[kind] = CommentedSeq(jinja_literal(k) for k in keys)
        item["bind"] = bind
    return item
