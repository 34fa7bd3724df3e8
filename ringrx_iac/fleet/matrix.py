"""The fleet's account keys as a CI matrix: one CI job per account.

- ``github``: ``{"account": [KEY, ...], "include": [{"account": KEY, "name": NAME}, ...]}``
  on one line, for ``strategy: {matrix: ${{ fromJSON(needs.accounts.outputs.matrix) }}}``
  (one job per key; ``include`` adds each job's display name as ``matrix.name``);
- ``gitlab``: a ``parallel: matrix:`` block with one ``ACCOUNT`` variable;
- ``json``: the keys as a JSON list; ``text``: one key per line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ringrx_iac.fleet.inventory import Account

MATRIX_FORMATS = ("github", "gitlab", "json", "text")


def render_matrix(accounts: Sequence[Account], fmt: str) -> str:
    keys = [a.key for a in accounts]
    if fmt == "github":
        include = [{"account": a.key, "name": a.name} for a in accounts]
        matrix = {"account": keys, "include": include}
        return json.dumps(matrix, separators=(",", ":"), ensure_ascii=False) + "\n"
    if fmt == "gitlab":
        # Keys are [a-z0-9._-]: safe as YAML flow scalars once JSON-quoted.
        return "parallel:\n  matrix:\n    - ACCOUNT: " + json.dumps(keys) + "\n"
    if fmt == "json":
        return json.dumps(keys) + "\n"
    return "".join(k + "\n" for k in keys)
