#!/usr/bin/env bash
# Runs one ringrx-iac command for action.yml; sets the step outputs exit-code, changes,
# drift and report, and appends the report to the job summary. Never fails by itself:
# the action's last step turns the exit code into the step's result.
set -uo pipefail

: "${COMMAND:?}" "${CONFIG_PATH:=callbacks/}" "${FORMAT:=}" "${FLEET:=}" "${ACCOUNT:=}"
: "${VAR_FILE:=}" "${PLAN_FILE:=ringrx-plan.json}" "${APPLY_REVIEWED_PLAN:=false}"
: "${GITHUB_OUTPUT:=/dev/null}" "${GITHUB_STEP_SUMMARY:=/dev/null}" "${RUNNER_TEMP:=/tmp}"

common=()
[ -n "$FLEET" ] && common+=(--fleet "$FLEET")
[ -n "$ACCOUNT" ] && common+=(--account "$ACCOUNT")
[ -n "$VAR_FILE" ] && common+=(--var-file "$VAR_FILE")

report="$RUNNER_TEMP/ringrx-iac-$COMMAND.md"
case "$COMMAND" in
  validate)
    ringrx-iac validate "$CONFIG_PATH" --format "${FORMAT:-github}" "${common[@]}" | tee "$report"
    code=${PIPESTATUS[0]} ;;
  plan)
    ringrx-iac plan "$CONFIG_PATH" --format "${FORMAT:-markdown}" --detailed-exitcode \
      --out "$PLAN_FILE" "${common[@]}" > "$report"
    code=$? ;;
  drift)
    ringrx-iac drift "$CONFIG_PATH" --format "${FORMAT:-markdown}" "${common[@]}" > "$report"
    code=$? ;;
  apply)
    if [ "$APPLY_REVIEWED_PLAN" = true ]; then
      ringrx-iac apply --plan "$PLAN_FILE" --log "$RUNNER_TEMP/ringrx-apply.jsonl" > "$report"
    else
      ringrx-iac apply "$CONFIG_PATH" --auto-approve --log "$RUNNER_TEMP/ringrx-apply.jsonl" \
        "${common[@]}" > "$report"
    fi
    code=$? ;;
  *)
    echo "::error title=ringrx-iac action::unknown command '$COMMAND' (validate, plan, apply or drift)"
    code=1 ;;
esac

{
  echo "exit-code=$code"
  echo "changes=$([ "$COMMAND" = plan ] && [ "$code" = 2 ] && echo true || echo false)"
  echo "drift=$([ "$COMMAND" = drift ] && [ "$code" = 2 ] && echo true || echo false)"
  if [ -s "$report" ]; then echo "report=$report"; else echo "report="; fi
} >> "$GITHUB_OUTPUT"

if [ -s "$report" ] && [ "$COMMAND" != validate ]; then
  cat "$report"
  {
    if [ "$COMMAND" = apply ]; then printf '### ringrx-iac apply\n\n```text\n'; fi
    cat "$report"
    if [ "$COMMAND" = apply ]; then printf '```\n'; fi
  } >> "$GITHUB_STEP_SUMMARY"
fi
if [ "$COMMAND" = validate ]; then
  if [ "$code" = 0 ]; then result="valid"; else result="invalid: see the annotations"; fi
  printf '### ringrx-iac validate\n\n`%s`: %s\n' "$CONFIG_PATH" "$result" >> "$GITHUB_STEP_SUMMARY"
fi
exit 0
