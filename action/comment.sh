#!/usr/bin/env bash
# One sticky pull-request comment per configuration path: found by its hidden MARKER and
# edited in place on every push, created the first time.
set -euo pipefail
: "${PR_NUMBER:?}" "${REPORT:?}" "${MARKER:?}" "${GITHUB_REPOSITORY:?}" "${RUNNER_TEMP:=/tmp}"

body="$RUNNER_TEMP/ringrx-iac-comment.md"
{ echo "$MARKER"; cat "$REPORT"; } > "$body"

existing=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
  --jq ".[] | select(.body | startswith(\"$MARKER\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" \
    -F "body=@$body" > /dev/null
  echo "updated the plan comment $existing"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
    -F "body=@$body" > /dev/null
  echo "posted the plan comment"
fi
