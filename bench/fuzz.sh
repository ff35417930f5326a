#!/usr/bin/env bash
# Fuzzes each Jazzer fuzz test of the gateway for N seconds (default 60) and prints a summary:
# executions, coverage, corpus size and findings per target.
#
#   bench/fuzz.sh [SECONDS] [Class#method ...]
#
# Inputs that grow coverage land in gateway/.cifuzz-corpus/ (not checked in; copy the interesting
# ones into gateway/src/test/resources/<package>/<Class>Inputs/<method>/ to keep them). A finding
# fails the run; Jazzer writes its reproducer into that Inputs directory, so once it is committed
# CI replays it for ever (regression mode).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(
    "FrameCodecFuzzTest#decodesFramesOrRefusesThemWithFrameException"
    "RequestTargetFuzzTest#parseRefusesOrReturnsAFixedPoint"
    "ManifestReaderFuzzTest#readsOrRefusesWithManifestException"
    "Http1ResponseFuzzTest#parsesTheResponseOrFailsWithAnIOException"
    "ResponseDecodingFuzzTest#decodesOrRefusesTheSameHoweverItIsSplit"
    "JsonFuzzTest#parsesOrRefusesWithSyntaxException"
    "JsonFuzzTest#legacyAnswerDecodesOrIsRefusedWithoutBreakingTheInstance"
    "StrictRequestDecoderFuzzTest#decodesOrFailsTheSameWayHoweverTheBytesArrive"
  )
fi

mvn -q -B -Dstyle.color=never -pl gateway -am test-compile -DskipTests >/dev/null
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
printf '%-72s %12s %8s %8s %8s\n' "target" "executions" "exec/s" "cov" "finding"
for target in "${targets[@]}"; do
  class="${target%%#*}"
  log="$results/${target//#/_}.log"
  if JAZZER_FUZZ=1 mvn -B -Dstyle.color=never -pl gateway toolchains:select-jdk-toolchain surefire:test -Dtest="$target" \
      -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration="${seconds}s" \
      -DargLine="--enable-native-access=ALL-UNNAMED -XX:+EnableDynamicAgentLoading" >"$log" 2>&1; then
    finding="no"
  else
    finding="YES"
    status=1
  fi
  # libFuzzer writes to the forked JVM's native stderr, which Maven's log carries.
  out="$(ls gateway/target/surefire-reports/*."$class"-output.txt 2>/dev/null | head -1)"
  cat "$out" >>"$log" 2>/dev/null || true
  done_line="$(grep -a '#[0-9]*[[:space:]]*DONE' "$log" | tail -1 || true)"
  execs="$(grep -ao 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}' || true)"
  rate="$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")"
  cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
  printf '%-72s %12s %8s %8s %8s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$finding"
  if [ "$finding" = "YES" ]; then
    grep -a -A20 'FuzzTestFinding\|== Java Exception' "$log" | head -40 || true
  fi
done
exit $status
