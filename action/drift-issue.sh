#!/usr/bin/env bash
# Drift as an issue: opened (or updated) while there is drift, closed once in sync again.
# The issue is found by its hidden MARKER, so one issue per configuration path.
set -euo pipefail
: "${DRIFT:?}" "${MARKER:?}" "${CONFIG_PATH:?}" "${GITHUB_REPOSITORY:?}" "${REPORT:=}"
: "${RUNNER_TEMP:=/tmp}" "${GITHUB_SERVER_URL:=https://github.com}" "${GITHUB_RUN_ID:=}"

open=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues?state=open&per_page=100" \
  --jq ".[] | select(.pull_request == null) | select((.body // \"\") | startswith(\"$MARKER\")) | .number" \
  | head -n 1)
run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"

if [ "$DRIFT" = true ]; then
  body="$RUNNER_TEMP/ringrx-iac-drift-issue.md"
  {
    echo "$MARKER"
    echo "The RingRx account differs from \`$CONFIG_PATH\` (seen by [this run]($run_url))."
    echo "Apply the configuration, or change it to match the account; this issue closes"
    echo "by itself at the first drift check that finds the account in sync."
    echo
    [ -n "$REPORT" ] && cat "$REPORT"
  } > "$body"
  if [ -n "$open" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/$open" -F "body=@$body" > /dev/null
    echo "updated the drift issue #$open"
  else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues" \
      -f "title=ringrx-iac: drift in $CONFIG_PATH" -F "body=@$body" > /dev/null
    echo "opened a drift issue"
  fi
elif [ -n "$open" ]; then
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$open/comments" \
    -f "body=In sync again ([drift check]($run_url)); closing." > /dev/null
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/$open" -f state=closed > /dev/null
  echo "closed the drift issue #$open"
fi
