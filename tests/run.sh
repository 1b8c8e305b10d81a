#!/usr/bin/env bash
# Tearline's one command for tests. Installs missing Debian packages, configures and builds, and
# runs every test. Exit status is non-zero on any failure.
#
#   ./tests/run.sh                 normal build in build/, all GoogleTest suites via ctest
#   ./tests/run.sh --sanitize=address,undefined    same suites in build-asan/ (or =thread: build-tsan/)
#   ./tests/run.sh --fuzz[=SECONDS]                clang libFuzzer targets in build-fuzz/, each run for
#                                                  SECONDS (default 30) under ASan+UBSan
#   ./tests/run.sh --ci            normal + ASan/UBSan + TSan + fuzz (what .ci/run does); a stage's
#                                  build dir is removed once it passes (logs kept as <dir>.*.log), so
#                                  the four builds never need the disk at once
#
# Under TSan every process the tests start (broker, node daemons, CLIs) is instrumented too; their
# reports go to build-tsan/tsan-reports/ (a child's stderr is often a log in a removed temp dir)
# and any report there fails the run. tests/tsan.supp holds the few justified suppressions.
# Set TEARLINE_TEST_SEED to replay a randomized fault test with the seed it printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode_normal=0
mode_ci=0
sanitizers=()
fuzz_seconds=""
for arg in "$@"; do
  case "$arg" in
    --sanitize=*) sanitizers+=("${arg#--sanitize=}") ;;
    --fuzz) fuzz_seconds=30 ;;
    --fuzz=*) fuzz_seconds="${arg#--fuzz=}" ;;
    --ci) mode_ci=1; mode_normal=1; sanitizers+=("address,undefined" "thread"); fuzz_seconds="${fuzz_seconds:-30}" ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "tests/run.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
if [ ${#sanitizers[@]} -eq 0 ] && [ -z "$fuzz_seconds" ]; then mode_normal=1; fi

./deploy/install-deps.sh

jobs="${TEARLINE_JOBS:-$(nproc)}"
total_passed=0
total_failed=0
# Names of what failed, per stage, repeated at the end: a CI log is often cut to its last lines.
failed_names=()

# Runs ctest in a build dir (further arguments go to ctest) and adds its counts to the totals.
run_suite() {
  local dir="$1"; shift
  local log="$dir/ctest.log"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "$@" 2>&1 | tee "$log" || rc=$?
  local name
  while read -r name; do
    failed_names+=("$dir: $name")
  done < <(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^[[:space:]]+[0-9]+ - ' |
           sed -E 's/^[[:space:]]+[0-9]+ - //')
  local line
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -n 1 || true)
  if [ -z "$line" ]; then
    echo "tests/run.sh: ctest in $dir produced no summary" >&2
    failed_names+=("$dir: ctest produced no summary")
    total_failed=$((total_failed + 1))
    return
  fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  if [ "$total" -eq 0 ]; then
    echo "tests/run.sh: no tests found in $dir" >&2
    total_failed=$((total_failed + 1))
  fi
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then total_failed=$((total_failed + 1)); fi
}

# build DIR [cmake options...] [-- build targets...]
build() {
  local dir="$1"; shift
  local options=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do options+=("$1"); shift; done
  if [ $# -gt 0 ]; then shift; for t in "$@"; do targets+=(--target "$t"); done; fi
  cmake -S . -B "$dir" "${options[@]}" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
}

stage_times=()
stage_failed_before=0
# Records how long a stage took (printed in the summary, so CI time stays visible). Under --ci a
# stage that passed gives its build dir back: each build holds several GB of debug information, and
# four at once have filled the disk of a CI machine before.
stage_done() {
  local name="$1" started="$2" dir="$3"
  stage_times+=("$name: $((SECONDS - started)) s")
  if [ "$mode_ci" -eq 1 ] && [ "$total_failed" -eq "$stage_failed_before" ] && [ -d "$dir" ]; then
    if [ -f "$dir/ctest.log" ]; then cp "$dir/ctest.log" "$dir.ctest.log"; fi
    rm -rf "$dir"
  fi
  stage_failed_before=$total_failed
}

# Four builds need tens of GB; say so plainly instead of failing deep inside a link step.
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((12 * 1024 * 1024)) ]; then
  echo "tests/run.sh: warning: only $((free_kb / 1024)) MiB free here; a build needs about 8 GiB" >&2
fi

if [ "$mode_normal" -eq 1 ]; then
  echo "== normal build (build/)"
  started=$SECONDS
  mkdir -p build
  build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  run_suite build
  stage_done "normal" "$started" build
fi

for san in "${sanitizers[@]}"; do
  case "$san" in
    thread) dir=build-tsan ;;
    *) dir=build-asan ;;
  esac
  echo "== sanitizer build ($san) in $dir/"
  started=$SECONDS
  mkdir -p "$dir"
  # -O1 -g1, as the sanitizers' documentation advises: -O0 code runs several times slower under
  # a sanitizer, and the suites run real daemons on a two-core machine; line tables are all a
  # report's stack trace needs, while full debug information makes every object and link larger.
  # Debug keeps assertions on.
  build "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DTEARLINE_SANITIZE="$san" -DTEARLINE_BUILD_BENCH=OFF
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  reports="$root/$dir/tsan-reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/report"
  if [ -f tests/tsan.supp ]; then TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$root/tests/tsan.supp"; fi
  export TSAN_OPTIONS
  # The multi-host namespace test checks networking, not memory or threads; it runs in the normal
  # stage, where its timings mean something.
  run_suite "$dir" -LE multihost
  if [ "$san" = thread ] && compgen -G "$reports/report*" >/dev/null; then
    echo "tests/run.sh: ThreadSanitizer reports (also from the broker/node processes the tests ran):" >&2
    for f in "$reports"/report*; do
      echo "--- $f" >&2; head -n 60 "$f" >&2
      failed_names+=("$dir: ThreadSanitizer report $(basename "$f") ($(grep -m1 -E '^WARNING|^SUMMARY' "$f" || true))")
    done
    total_failed=$((total_failed + $(ls "$reports"/report* | wc -l)))
  fi
  stage_done "sanitizer $san" "$started" "$dir"
done

if [ -n "$fuzz_seconds" ]; then
  started=$SECONDS
  echo "== fuzz targets (build-fuzz/), ${fuzz_seconds}s each"
  mkdir -p build-fuzz
  # Only the fuzz targets are built: the daemons and tests were built and run in the other stages.
  CC=clang CXX=clang++ build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEARLINE_FUZZ=ON \
    -DTEARLINE_SANITIZE=address,undefined -DTEARLINE_BUILD_BENCH=OFF -DTEARLINE_BUILD_TESTS=ON \
    -- tearline_fuzz_targets
  export ASAN_OPTIONS="detect_leaks=1"
  for target in build-fuzz/bin/*_fuzz; do
    name="$(basename "$target" _fuzz)"
    corpus="build-fuzz/corpus/$name"
    mkdir -p "$corpus" build-fuzz/artifacts
    if [ -d "tests/fuzz/corpus/$name" ]; then cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true; fi
    if [ "$name" = policy ]; then cp deploy/policy/coalition.toml "$corpus/coalition.toml"; fi
    echo "-- fuzz $name"
    if "$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
         -artifact_prefix=build-fuzz/artifacts/"$name"- "$corpus" >"build-fuzz/$name.log" 2>&1; then
      tail -n 1 "build-fuzz/$name.log"
      total_passed=$((total_passed + 1))
    else
      tail -n 40 "build-fuzz/$name.log"
      echo "tests/run.sh: fuzz target $name FAILED (artifacts in build-fuzz/artifacts/)" >&2
      failed_names+=("build-fuzz: $name")
      total_failed=$((total_failed + 1))
    fi
  done
  stage_done "fuzz" "$started" build-fuzz
fi

echo
for t in "${stage_times[@]}"; do echo "stage $t"; done
for n in "${failed_names[@]}"; do echo "FAILED $n"; done
echo "tests: ${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
