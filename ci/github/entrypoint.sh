#!/usr/bin/env bash
# Entry point of the Vigil GitHub Action (action.yml). Reads the action's
# inputs from INPUT_* variables, updates the DB, scans, writes the reports
# and the step summary, sets the outputs, and exits with vigil's exit code
# (0 pass, INPUT_EXIT_CODE gate failed, 2 scan could not run).
set -uo pipefail

vigil="${VIGIL_BIN:-vigil}"
image="${INPUT_IMAGE_NAME:-}"
if [ -z "$image" ]; then
  echo "::error::input image-name is required"
  exit 2
fi
out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/vigil-${GITHUB_RUN_ID:-local}"
mkdir -p "$out_dir"
report="$out_dir/vigil-report.json"
containerscan="$out_dir/scanreport.json"
sarif="${INPUT_SARIF_FILE:-vigil-results.sarif}"
summary="$out_dir/summary.md"

# Vulnerability DB: from a Vigil server when given (no upstream rate limits),
# otherwise from the configured feeds.
if [ -n "${INPUT_DB_URL:-}" ]; then
  "$vigil" db update --from "$INPUT_DB_URL" || exit 2
elif [ "${VIGIL_SKIP_DB_UPDATE:-false}" != "true" ]; then
  "$vigil" db update || exit 2
fi

args=(image "$image"
  --severity-threshold "${INPUT_SEVERITY_THRESHOLD:-HIGH}"
  --exit-code "${INPUT_EXIT_CODE:-1}"
  --format table
  --format "json=$report"
  --format "containerscan=$containerscan"
  --format "sarif=$sarif"
  --format "markdown=$summary")
case "${INPUT_RUN_QUALITY_CHECKS:-true}" in
  false|False|FALSE) args+=(--checks=false) ;;
esac
case "${INPUT_IGNORE_UNFIXED:-false}" in
  true|True|TRUE) args+=(--ignore-unfixed) ;;
esac
[ -n "${INPUT_DOCKERFILE:-}" ] && args+=(--dockerfile "$INPUT_DOCKERFILE")
[ -n "${INPUT_POLICY:-}" ] && args+=(--policy "$INPUT_POLICY")
# Azure/container-scan's allow-list (.github/containerscan/allowedlist.yaml)
# keeps working unchanged: vigil image reads it by default when present.
while IFS= read -r vex; do
  [ -n "$vex" ] && args+=(--vex "$vex")
done <<< "${INPUT_VEX:-}"
[ -n "${VIGIL_SERVER:-}" ] && args+=(--publish)

# Azure/container-scan's timeout input: the whole scan, DB excluded.
timeout_cmd=()
if [ -n "${INPUT_TIMEOUT:-}" ]; then
  if ! command -v timeout >/dev/null; then
    echo "::warning::input timeout ignored: no timeout command on this runner"
  else
    timeout_cmd=(timeout "$INPUT_TIMEOUT")
  fi
fi
"${timeout_cmd[@]}" "$vigil" "${args[@]}"
rc=$?
if [ "${#timeout_cmd[@]}" -gt 0 ] && [ "$rc" -eq 124 ]; then
  echo "::error::vigil: the scan of $image did not finish within $INPUT_TIMEOUT"
  exit 2
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "scan-report-path=$containerscan"
    echo "vigil-report-path=$report"
    echo "sarif-path=$sarif"
  } >> "$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$summary" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"
fi
# The gate's exit code is checked first: exit-code may be set to 2 too.
if [ "$rc" -ne 0 ] && [ "$rc" = "${INPUT_EXIT_CODE:-1}" ]; then
  echo "::error::vigil: $image failed the gate (severity threshold ${INPUT_SEVERITY_THRESHOLD:-HIGH})"
elif [ "$rc" -ne 0 ]; then
  echo "::error::vigil could not scan $image"
fi
exit "$rc"
