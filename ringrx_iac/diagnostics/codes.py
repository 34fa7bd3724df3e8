"""THE table of diagnostic codes: every finding of the loader, the linter and the planner.

Codes are stable: never renumber or reuse one. ``docs/lint-rules.md`` documents them and
a test checks that every code here is documented there.

- RRX0xx loading: files, encoding, templates, YAML, schema
- RRX1xx tokens in URLs and headers
- RRX2xx URLs
- RRX3xx headers
- RRX4xx basic auth and secrets
- RRX5xx bindings and global callbacks
- RRX6xx names, ignore and protected lists
- RRX7xx plan time: the configuration against the live account (``reconcile``)

A test checks that every ``RRXnnn`` written anywhere in the package is in this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringrx_iac.diagnostics import Diagnostic, Location, Severity


@dataclass(frozen=True)
class Rule:
    """One diagnostic code: its default severity, a short name and the usual fix."""

    code: str
    name: str
    severity: Severity
    summary: str
    hint: str

    def diag(
        self,
        message: str,
        location: Location | None = None,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A :class:`Diagnostic` of this rule (``hint`` defaults to the rule's hint)."""
        return Diagnostic(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            hint=self.hint if hint is None else hint,
            location=location,
        )


_RULES: tuple[Rule, ...] = (
    # Loading.
    Rule(
        "RRX001",
        "unreadable-path",
        "error",
        "The path does not exist or cannot be read.",
        "check the path",
    ),
    Rule(
        "RRX002",
        "no-yaml-files",
        "error",
        "A directory holds no *.yaml / *.yml files.",
        "point at a YAML file or a directory of them",
    ),
    Rule(
        "RRX003",
        "bad-encoding",
        "error",
        "The file is not UTF-8, or holds control characters.",
        "save the file as UTF-8",
    ),
    Rule(
        "RRX004",
        "template-syntax",
        "error",
        "Jinja2 syntax error, sandbox violation or exceeded bound in a file.",
        "check the {{ }} / {% %} tags",
    ),
    Rule(
        "RRX005",
        "template-undefined",
        "error",
        "A Jinja2 variable is not defined (env holds only RINGRX_VAR_* variables).",
        "pass it with --var NAME=VALUE or --var-file",
    ),
    Rule(
        "RRX006",
        "yaml-syntax",
        "error",
        "Malformed YAML, or an unsupported YAML feature (tags, complex keys).",
        "fix the YAML at this position",
    ),
    Rule(
        "RRX007",
        "duplicate-key",
        "error",
        "A mapping defines the same key twice.",
        "remove one of them",
    ),
    Rule(
        "RRX008",
        "alias-bomb",
        "error",
        "YAML aliases expand to too much data, or an alias is recursive.",
        "write values out instead of nesting aliases",
    ),
    Rule(
        "RRX009",
        "empty-file",
        "error",
        "The file holds no YAML document.",
        "add 'version: 1' or remove the file",
    ),
    Rule(
        "RRX010",
        "not-a-mapping",
        "error",
        "The top level of a file is not a mapping.",
        "start the file with 'version: 1' and 'callbacks:'",
    ),
    Rule(
        "RRX011",
        "unknown-version",
        "error",
        "'version' is missing or not a version this tool knows.",
        "set 'version: 1'",
    ),
    Rule(
        "RRX012",
        "version-mismatch",
        "error",
        "Files of one directory declare different versions.",
        "use the same 'version' in every file",
    ),
    Rule(
        "RRX013",
        "section-twice",
        "error",
        "'safety', 'policy', 'manage' or 'defaults' is set in more than one file.",
        "keep the section in one file",
    ),
    Rule(
        "RRX020",
        "unknown-key",
        "error",
        "A key the configuration language does not have (typo?).",
        "use one of the documented keys",
    ),
    Rule(
        "RRX021",
        "invalid-value",
        "error",
        "A value has the wrong type or is out of range.",
        "fix the value",
    ),
    Rule("RRX022", "missing-key", "error", "A required key is missing.", "add the key"),
    # Baselines and overlays (extends / override).
    Rule(
        "RRX030",
        "extends-not-found",
        "error",
        "A path named by 'extends' does not exist.",
        "fix the path; it is relative to the file that says 'extends'",
    ),
    Rule(
        "RRX031",
        "extends-cycle",
        "error",
        "Configurations extend each other in a cycle.",
        "remove one of the 'extends' entries",
    ),
    Rule(
        "RRX032",
        "override-needed",
        "error",
        "A callback name is defined both in a configuration and in the baseline it extends.",
        "add 'override: true' to this callback to replace the baseline's, or rename it",
    ),
    Rule(
        "RRX033",
        "override-without-base",
        "warning",
        "A callback says 'override: true' but the baseline has no callback of that name.",
        "remove 'override: true', or fix the name to match the baseline's callback",
    ),
    # The fleet inventory (fleet.yaml).
    Rule(
        "RRX040",
        "duplicate-account-key",
        "error",
        "Two accounts of the fleet inventory have one key.",
        "give each account its own key",
    ),
    Rule(
        "RRX041",
        "literal-credential",
        "error",
        "An account's API key or secret is written literally in the fleet inventory.",
        'reference it instead: "${env:NAME}" or "${file:PATH}" (relative to the inventory)',
    ),
    # Tokens.
    Rule(
        "RRX101",
        "unknown-token",
        "error",
        "A {token} the callback type does not document; RingRx would send it literally.",
        "use a token of this type (see docs/lint-rules.md)",
    ),
    Rule(
        "RRX102",
        "payload-only-token",
        "warning",
        "A payload field that RingRx does not list as a token; it may not be replaced.",
        "use a documented token, or read the field from the JSON body",
    ),
    Rule(
        "RRX103",
        "malformed-placeholder",
        "error",
        "A placeholder with spaces or other characters, e.g. '{ from }'.",
        "write the token without spaces: {from}",
    ),
    Rule(
        "RRX104",
        "unbalanced-brace",
        "error",
        "A '{' without its '}' or a '}' without its '{'.",
        "close the placeholder, e.g. {from}",
    ),
    Rule(
        "RRX105",
        "token-in-host",
        "error",
        "A token in the URL's scheme or host.",
        "keep tokens in the path or query",
    ),
    Rule(
        "RRX106",
        "token-in-basic-auth",
        "error",
        "A token in basic_auth: RingRx does not replace tokens there.",
        "put a fixed username, and the password as ${env:NAME}",
    ),
    # URLs.
    Rule(
        "RRX201",
        "insecure-url",
        "error",
        "An http:// URL: events carry patient data.",
        "use https://, or set allow_insecure_url: true on this callback",
    ),
    Rule(
        "RRX202",
        "invalid-url",
        "error",
        "The URL is not an absolute http(s) URL with a host.",
        "write a full URL: https://host/path",
    ),
    Rule(
        "RRX203",
        "phi-in-query",
        "warning",
        "A token carrying patient data (PHI) in the URL query, which proxies and servers log.",
        "send it in a header or rely on the request body",
    ),
    Rule(
        "RRX204",
        "host-not-allowed",
        "error",
        "The URL's host is not in policy.allowed_hosts (the reviewed destinations).",
        "send to an allowed host, or add the host to policy.allowed_hosts after review",
    ),
    Rule(
        "RRX205",
        "bad-allowed-host",
        "error",
        "A policy.allowed_hosts entry that is not a host name or a leading '*.' wildcard.",
        "write a host (hooks.example.com) or *.example.org",
    ),
    Rule(
        "RRX206",
        "url-credentials",
        "error",
        "The URL holds credentials (user:password@host); every output would be a leak risk.",
        'use basic_auth: {username: NAME, password: "${env:NAME}"} instead',
    ),
    # Headers.
    Rule(
        "RRX301",
        "invalid-header-name",
        "error",
        "A header name that is not an HTTP token (RFC 7230).",
        "use letters, digits and - (e.g. X-Api-Key)",
    ),
    Rule(
        "RRX302",
        "header-value-newline",
        "error",
        "A CR or LF in a header value (RingRx separates headers by lines).",
        "put the value on one line",
    ),
    Rule(
        "RRX303",
        "duplicate-header",
        "error",
        "Two headers differ only by letter case (defaults included).",
        "keep one of them",
    ),
    Rule(
        "RRX304",
        "literal-header-secret",
        "warning",
        "A header that looks secret holds a literal value.",
        "use a reference: ${env:NAME} or ${file:PATH}",
    ),
    Rule(
        "RRX305",
        "required-header-missing",
        "error",
        "policy.require_header names a header this callback does not send.",
        'add the header, e.g. X-Api-Key: "${env:NAME}"',
    ),
    # Basic auth and secrets.
    Rule(
        "RRX401",
        "basic-auth-incomplete",
        "error",
        "basic_auth has a username without a password, or the reverse.",
        "set both username and password, or remove basic_auth",
    ),
    Rule(
        "RRX402",
        "literal-password",
        "warning",
        "A literal password in the configuration.",
        'use a reference: password: "${env:NAME}"',
    ),
    Rule(
        "RRX403",
        "bad-secret-reference",
        "error",
        "A malformed ${...} secret reference.",
        "use ${env:NAME} or ${file:PATH}",
    ),
    Rule(
        "RRX404",
        "basic-auth-required",
        "error",
        "policy.require_basic_auth applies to this callback, which has no basic_auth.",
        'add basic_auth: {username: ..., password: "${env:NAME}"}',
    ),
    # Bindings.
    Rule(
        "RRX501",
        "bind-on-global",
        "error",
        "'bind' on a global type (cdr, recording): these fire for every call.",
        "remove 'bind'",
    ),
    Rule(
        "RRX502",
        "wrong-bind-key",
        "error",
        "A bind key that does not match the callback type.",
        "use the type's bind key",
    ),
    Rule(
        "RRX503",
        "target-bound-twice",
        "error",
        "One target bound by two callbacks; a target holds one callback.",
        "bind the target in one callback only",
    ),
    Rule(
        "RRX504",
        "bad-phone-number",
        "error",
        "A phone number that cannot be parsed.",
        "write it with country code: +18185559876",
    ),
    Rule(
        "RRX505",
        "many-global-callbacks",
        "warning",
        "More than one global callback of a type; each fires on every call.",
        "merge them if one receiver can take the events",
    ),
    # Names.
    Rule(
        "RRX601",
        "duplicate-name",
        "error",
        "Two callbacks with one name; names are the match key.",
        "rename one of them",
    ),
    Rule(
        "RRX602",
        "ignored-managed-name",
        "warning",
        "An 'ignore' glob matches a callback the configuration manages.",
        "narrow the glob or rename the callback",
    ),
    Rule(
        "RRX603",
        "unknown-protected-name",
        "warning",
        "A 'safety.protected' name is not a callback of the configuration.",
        "fix the name or remove it",
    ),
    Rule(
        "RRX604",
        "previously-conflict",
        "error",
        "A 'previously' name is another callback's name, or a former name of two callbacks.",
        "a former name belongs to one callback only; remove it from the others",
    ),
    Rule(
        "RRX605",
        "reserved-name",
        "error",
        "A callback is named 'ringrx-iac lock', the name of apply's account lock.",
        "rename the callback",
    ),
    # Plan time: the configuration against the live account.
    # RRX701 (live-duplicate-name) is retired: the plan repairs duplicates now.
    Rule(
        "RRX702",
        "bound-to-ignored",
        "error",
        "A target the YAML binds is bound live to an ignored callback; never taken over silently.",
        "unbind it in the portal, remove it from the YAML, or stop ignoring that callback",
    ),
    Rule(
        "RRX703",
        "unknown-target",
        "error",
        "A bind names a target that does not exist live (closest existing one suggested).",
        "fix the name, or create the target in the portal first",
    ),
    Rule(
        "RRX704",
        "ambiguous-target",
        "error",
        "A bind reference matches several live targets.",
        "name the target by a unique key (number or extension)",
    ),
    Rule(
        "RRX705",
        "target-bound-twice-live",
        "error",
        'One live target is bound by two callbacks of the YAML (e.g. "1001" and "Front desk").',
        "bind it from one callback only",
    ),
    Rule(
        "RRX706", "name-defined-twice", "error", "A callback name is defined twice.", "rename one"
    ),
    Rule(
        "RRX710",
        "literal-secret-in-plan",
        "error",
        "A literal secret cannot be written to a plan file.",
        "use `${env:NAME}` / `${file:PATH}`",
    ),
    Rule(
        "RRX711",
        "unresolved-secret",
        "error",
        "A secret reference cannot be resolved (variable unset, file missing).",
        "set the variable or create the file",
    ),
    Rule(
        "RRX720",
        "max-delete-percent",
        "warning",
        "Deletes + replacements exceed `safety.max_delete_percent` of managed callbacks "
        "(apply refuses).",
        "raise `safety.max_delete_percent`, or `apply --force`",
    ),
    Rule(
        "RRX721",
        "protected-callback",
        "warning",
        "The plan deletes or replaces a `safety.protected` callback (apply refuses).",
        "remove it from `safety.protected`, or `apply --force`",
    ),
    Rule(
        "RRX722",
        "max-reroute-percent",
        "warning",
        "More than `safety.max_reroute_percent` of managed callbacks change destination origin "
        "(apply refuses).",
        "raise `safety.max_reroute_percent`, add the reviewed hosts to `policy.allowed_hosts`, "
        "or `apply --force`",
    ),
    Rule(
        "RRX723",
        "max-unbind-percent",
        "warning",
        "More than `safety.max_unbind_percent` of bound targets lose their callback "
        "(apply refuses).",
        "raise `safety.max_unbind_percent`, or `apply --force`",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
assert len(RULES) == len(_RULES), "duplicate rule code"
