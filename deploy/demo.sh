#!/usr/bin/env bash
# Tearline demo: from a fresh clone, installs what is missing, builds, and walks through how the
# coalition's markings decide who may receive what. Exits 0 only if every expectation held.
# Everything it writes stays under build/demo/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./deploy/install-deps.sh
jobs="${TEARLINE_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" --target tearline-label >/dev/null

demo_dir="build/demo"
rm -rf "$demo_dir"
mkdir -p "$demo_dir"
label="build/bin/tearline-label"
failures=0

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# expect DESCRIPTION EXPECTED_EXIT EXPECTED_OUTPUT_PREFIX -- ARGS...
expect() {
  local what="$1" want_rc="$2" want_out="$3"; shift 4
  local out rc=0
  out="$("$label" "$@" 2>&1)" || rc=$?
  echo "\$ tearline-label $(printf '%q ' "$@")" >>"$demo_dir/transcript.txt"
  echo "$out" >>"$demo_dir/transcript.txt"
  if [ "$rc" -eq "$want_rc" ] && [[ "$out" == "$want_out"* ]]; then
    printf '  ok    %-46s %s\n' "$what" "$out"
  else
    printf '  FAIL  %-46s got (exit %s) %s; expected (exit %s) %s...\n' \
      "$what" "$rc" "$out" "$want_rc" "$want_out"
    failures=$((failures + 1))
  fi
}

bold "1. Markings are normalised, whatever the analyst typed"
expect "canonical REL TO order" 0 "SECRET//REL TO USA, AUS, GBR" -- parse "secret//rel to gbr, usa, aus"
expect "portion form keeps abbreviations" 0 "(TS//OC/NF)" -- parse "(ts//nf/oc)"
expect "groups stay as written" 0 "SECRET//REL TO USA, JPN, FVEY" -- parse "S//REL TO FVEY, JPN, USA"

bold "2. Releasability per recipient, with the reason for every denial"
expect "Five Eyes portion to New Zealand" 0 "RELEASE" -- check "(S//REL TO USA, FVEY)" --to NZL
expect "Five Eyes portion to Japan" 1 "DENY NOT_RELEASABLE" -- check "(S//REL TO USA, FVEY)" --to JPN
expect "Military Framework portion to Germany" 0 "RELEASE" -- check "SECRET//REL TO MILFWK" --to DEU
expect "Quad portion to India" 0 "RELEASE" -- check "SECRET//REL TO QUAD" --to IND
expect "AUKUS portion to Canada" 1 "DENY NOT_RELEASABLE" -- check "SECRET//REL TO AUKUS" --to CAN
expect "Japan to Korea directly (GSOMIA)" 0 "RELEASE" -- check "SECRET//REL TO JPN, KOR" --to KOR --originator JPN
expect "NOFORN stays home" 1 "DENY NOFORN" -- check "(S//NF)" --to GBR
expect "originator sees its own NOFORN" 0 "RELEASE" -- check "(S//NF)" --to USA --originator USA
expect "above the recipient's clearance" 1 "DENY ABOVE_CLEARANCE" -- check "TOP SECRET//REL TO USA, GBR" --to GBR --clearance SECRET
expect "forgotten releasability marking" 1 "DENY NO_RELEASABILITY_MARKING" -- check "SECRET" --to GBR --originator USA

bold "3. Roll-up of portions into the report banner"
expect "one NOFORN portion makes the banner NOFORN" 0 "SECRET//NOFORN" -- rollup "(S//NF)" "(S//REL TO USA, GBR)"
expect "unclassified portions do not restrict" 0 "SECRET//REL TO USA, GBR" -- rollup "(U)" "(S//REL TO USA, GBR)"
expect "intersection keeps whole groups" 0 "SECRET//REL TO USA, FVEY" -- rollup "(S//REL TO USA, FVEY)" "(S//REL TO MILFWK)"
expect "intersection of one nation is NOFORN" 0 "SECRET//NOFORN" -- rollup "(S//REL TO USA, GBR)" "(S//REL TO USA, JPN)"

bold "4. Bad markings are refused with the rule that was broken"
expect "NOFORN with REL TO" 2 "tearline-label: error: LABEL_NOFORN_WITH_REL_TO" -- parse "SECRET//NOFORN/REL TO USA, GBR"
expect "unknown country code" 2 "tearline-label: error: LABEL_UNKNOWN_CODE" -- parse "SECRET//REL TO USA, XYZ"
expect "empty REL TO" 2 "tearline-label: error: LABEL_EMPTY_REL_TO" -- parse "SECRET//REL TO"

echo
echo "Transcript: $demo_dir/transcript.txt"
if [ "$failures" -ne 0 ]; then
  echo "demo: $failures expectation(s) did not hold" >&2
  exit 1
fi
echo "demo: every expectation held"
