#!/usr/bin/env bash
# On a push to the default branch: download the plan that was reviewed on the merged pull
# request (the `ringrx-plan` artifact of its last successful pull_request run) to PLAN_FILE.
# No reviewed plan found: fail, rather than apply something nobody reviewed.
set -euo pipefail
: "${PLAN_FILE:?}" "${GITHUB_REPOSITORY:?}" "${GITHUB_SHA:?}" "${RUNNER_TEMP:=/tmp}"

fail() { echo "::error title=ringrx-iac apply::$1"; exit 1; }

pr=$(gh api "repos/$GITHUB_REPOSITORY/commits/$GITHUB_SHA/pulls" --jq '.[0].number // empty')
[ -n "$pr" ] || fail "no pull request is associated with $GITHUB_SHA: nothing reviewed to apply (set apply-reviewed-plan: false to apply the configuration as it is)"
head=$(gh api "repos/$GITHUB_REPOSITORY/pulls/$pr" --jq .head.sha)
run=$(gh api "repos/$GITHUB_REPOSITORY/actions/runs?head_sha=$head&event=pull_request&status=success" \
  --jq '.workflow_runs[0].id // empty')
[ -n "$run" ] || fail "no successful pull_request run for #$pr ($head): no reviewed plan"
dir="$RUNNER_TEMP/ringrx-reviewed-plan"
rm -rf "$dir"
gh run download "$run" --repo "$GITHUB_REPOSITORY" --name ringrx-plan --dir "$dir" \
  || fail "run $run of #$pr has no ringrx-plan artifact"
plan=$(find "$dir" -type f -name '*.json' | head -n 1)
[ -n "$plan" ] || fail "the ringrx-plan artifact of run $run holds no plan file"
mkdir -p "$(dirname "$PLAN_FILE")"
cp "$plan" "$PLAN_FILE"
echo "reviewed plan of #$pr (run $run) -> $PLAN_FILE"
