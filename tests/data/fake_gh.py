"""A stand-in for the ``gh`` CLI in tests/test_action.py: ``gh api`` over a JSON file.

Knows the few REST routes action/*.sh use (issue comments, issues); applies ``--jq`` with
the ``jq`` program, like gh does with its built-in jq. Every call is recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _fields(args: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for flag, value in zip(args, args[1:], strict=False):
        if flag in ("-f", "-F"):
            key, _, raw = value.partition("=")
            out[key] = Path(raw[1:]).read_text() if flag == "-F" and raw.startswith("@") else raw
    return out


def main(argv: list[str]) -> int:
    state_file = Path(os.environ["FAKE_GH_STATE"])
    state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {}
    state.setdefault("comments", [])
    state.setdefault("issues", [])
    state.setdefault("calls", [])
    if argv[:2] == ["run", "download"]:
        return _run_download(argv[2:], state)
    if argv[:1] != ["api"]:
        print(f"fake gh: unsupported {argv}", file=sys.stderr)
        return 1
    args = argv[1:]
    method = args[args.index("--method") + 1] if "--method" in args else "GET"
    jq = args[args.index("--jq") + 1] if "--jq" in args else None
    skip = {"--method", "--jq", "-f", "-F"}
    path = next(a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in skip)
    route = path.split("?")[0].split("/")[3:]  # after repos/OWNER/NAME
    fields = _fields(args)
    state["calls"].append({"method": method, "path": path, "fields": fields})
    result: Any = None
    query = dict(p.split("=", 1) for p in path.partition("?")[2].split("&") if "=" in p)
    if route[:1] == ["commits"] and route[2:] == ["pulls"]:
        result = [{"number": n} for n in state.get("pulls_for_commit", {}).get(route[1], [])]
    elif route[:1] == ["pulls"]:
        result = {"number": int(route[1]), "head": {"sha": state["pull_heads"][route[1]]}}
    elif route[:2] == ["actions", "runs"]:
        runs = [r for r in state.get("runs", []) if r["head_sha"] == query.get("head_sha")]
        result = {"workflow_runs": runs}
    elif route[:1] == ["issues"] and len(route) == 3 and route[2] == "comments":
        number = int(route[1])
        if method == "POST":
            comment = {"id": 1000 + len(state["comments"]), "issue": number, **fields}
            state["comments"].append(comment)
            result = comment
        else:
            result = [c for c in state["comments"] if c["issue"] == number]
    elif route[:2] == ["issues", "comments"] and method == "PATCH":
        (comment,) = [c for c in state["comments"] if c["id"] == int(route[2])]
        comment.update(fields)
        result = comment
    elif route == ["issues"] and method == "POST":
        issue = {"number": 1 + len(state["issues"]), "state": "open", **fields}
        state["issues"].append(issue)
        result = issue
    elif route == ["issues"]:
        result = [{**i, "pull_request": None} for i in state["issues"] if i["state"] == "open"]
    elif route[:1] == ["issues"] and len(route) == 2 and method == "PATCH":
        (issue,) = [i for i in state["issues"] if i["number"] == int(route[1])]
        issue.update(fields)
        result = issue
    else:
        print(f"fake gh: unsupported route {method} {path}", file=sys.stderr)
        return 1
    state_file.write_text(json.dumps(state, indent=2))
    text = json.dumps(result)
    if jq is not None:
        text = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True).stdout
    sys.stdout.write(text)
    return 0


def _run_download(args: list[str], state: dict[str, Any]) -> int:
    """``gh run download RUN --name NAME --dir DIR``: the artifact's files from the state."""
    run, name, folder = args[0], args[args.index("--name") + 1], args[args.index("--dir") + 1]
    files = state.get("artifacts", {}).get(run, {}).get(name)
    if files is None:
        print(f"no artifact named {name}", file=sys.stderr)
        return 1
    Path(folder).mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        (Path(folder) / file_name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
