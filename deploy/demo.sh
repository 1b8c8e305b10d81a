#!/usr/bin/env bash
# Tearline demo: from nothing, installs what is missing, builds, creates a coalition (root CA,
# broker, nodes for USA, GBR, AUS, JPN and KOR), starts the broker and the five nodes on
# 127.0.0.1, and runs the scenarios allies report. Then, with the broker stopped, an auditor of
# another nation checks the broker's audit directory with tearline-audit (verify, denials, one
# report's chain of custody, HTML report). Prints a summary and exits 0 only if every
# expectation held. Logs, certificates and data stay under build/demo/.
#
# For installed programs (the package test runs it from unpacked Debian packages):
#   TEARLINE_DEMO_BIN=DIR     run the programs in DIR; install nothing, build nothing
#   TEARLINE_DEMO_DIR=DIR     work directory (default build/demo/; emptied first)
#   TEARLINE_DEMO_SCENARIOS=1 stop after scenario 1
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ -z "${TEARLINE_DEMO_BIN:-}" ]; then
  ./deploy/install-deps.sh
  jobs="${TEARLINE_JOBS:-$(nproc)}"
  echo "== building"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$jobs" --target tearline-label tearline-certs tearline-broker tearline-node tearline-admin \
    tearline-audit >/dev/null
fi

bin="${TEARLINE_DEMO_BIN:-$root/build/bin}"
demo="${TEARLINE_DEMO_DIR:-$root/build/demo}"
rm -rf "$demo"
mkdir -p "$demo/logs" "$demo/data" "$demo/reports"
cd "$demo"

failures=0
pids=()
summary=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

bold "1. Coalition identities (root CA, broker, one node per nation)"
"$bin/tearline-certs" init-ca --out ca >logs/certs.log
"$bin/tearline-certs" issue --ca ca --node broker --nation USA --clearance "TOP SECRET" --role broker --out certs >>logs/certs.log
declare -A nation=([usa-1]=USA [gbr-1]=GBR [aus-1]=AUS [jpn-1]=JPN [kor-1]=KOR)
for id in usa-1 gbr-1 aus-1 jpn-1 kor-1; do
  "$bin/tearline-certs" issue --ca ca --node "$id" --nation "${nation[$id]}" --clearance SECRET --out certs >>logs/certs.log
  echo "  issued $id (${nation[$id]}, SECRET)"
done

cat >broker.toml <<TOML
[broker]
id = "broker"
endpoint = "tcp://127.0.0.1:0"
certificate = "certs/broker.cert"
secret = "certs/broker.secret"
ca_dir = "ca"
directory = "certs"
data_dir = "data/broker"
head_file = "data/broker.head"
heartbeat_ms = 500
# Each sender's share (defaults): pending copies in one recipient's queue, bytes in the store.
# max_queue_per_sender_per_recipient = 1000
# max_store_bytes_per_node = 134217728
max_connections = 64
# Submits per second per node (announced in Welcome; nodes pace to it) and frames per second.
rate_per_node = 100
frame_rate_per_node = 400
delivery_window = 256
max_delivery_refusals = 3
# Submissions waiting to be processed (defaults); beyond, BROKER_BUSY with a retry-after hint.
# submit_backlog_per_node = 1024
# submit_backlog_bytes = 67108864
# Undecided release requests one node may have open (a flood beyond it: RELEASE_REQUEST_LIMIT).
max_release_requests_per_node = 16
TOML

bold "2. Broker and five national nodes on 127.0.0.1"
"$bin/tearline-broker" --config broker.toml >logs/broker.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s data/broker/endpoint ] && break; sleep 0.1; done
endpoint="$(cat data/broker/endpoint)"
echo "  broker listening on $endpoint"

node_config() {
  local id="$1" ca="$2" certdir="$3"
  cat >"$id.toml" <<TOML
[node]
id = "$id"
broker_endpoint = "$endpoint"
broker_certificate = "certs/broker.cert"
certificate = "$certdir/$id.cert"
secret = "$certdir/$id.secret"
ca_dir = "$ca"
data_dir = "data/$id"
heartbeat_ms = 500
# Inbox quota (defaults); beyond it deliveries are refused with INBOX_FULL.
# max_inbox_reports = 100000
# max_inbox_bytes = 8589934592
TOML
}
for id in usa-1 gbr-1 aus-1 jpn-1 kor-1; do
  node_config "$id" ca certs
  "$bin/tearline-node" run --config "$id.toml" >"logs/$id.log" 2>&1 &
  pids+=($!)
done
for id in usa-1 gbr-1 aus-1 jpn-1 kor-1; do
  ok=0
  for _ in $(seq 100); do
    if "$bin/tearline-node" status --config "$id.toml" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  check "$id connected to the broker" test "$ok" -eq 1
done

node() { "$bin/tearline-node" "$@"; }
# Report ids are the first field of inbox lines; read the newest report from ORIGIN in a node.
inbox_has() { node inbox --config "$1.toml" | grep -q "$2"; }

bold "3. Scenario 1: USA shares a three-portion report with GBR, AUS, JPN and KOR"
printf 'Convoy sighted at grid 31U, moving north.\n' >reports/fvey.txt
printf 'Maritime patrol schedule for the Sea of Japan.\n' >reports/jpn.txt
printf 'Source identity and collection method.\n' >reports/nf.txt
set +e
node send --config usa-1.toml --to GBR,AUS,JPN,KOR \
  --portion "(S//REL TO USA, FVEY)" reports/fvey.txt \
  --portion "(S//REL TO USA, JPN)" reports/jpn.txt \
  --portion "(S//NF)" reports/nf.txt >logs/scenario1.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/scenario1.out
check "GBR receives the Five Eyes portion" grep -q "^GBR gbr-1 \(DELIVERED\|QUEUED\) portions 1\b" logs/scenario1.out
check "AUS receives the Five Eyes portion" grep -q "^AUS aus-1 \(DELIVERED\|QUEUED\) portions 1\b" logs/scenario1.out
check "JPN receives the Japan portion" grep -q "^JPN jpn-1 \(DELIVERED\|QUEUED\) portions 2\b" logs/scenario1.out
check "KOR receives nothing, with reasons" grep -q "^KOR kor-1 DENIED: portion 1 NOT_RELEASABLE" logs/scenario1.out
check "nobody receives the NOFORN portion" bash -c "! grep -q 'portions [0-9, ]*3' logs/scenario1.out"
check "send exits 1 because KOR got nothing" test "$rc" -eq 1
sleep 1
for id in gbr-1 aus-1; do
  rid="$(node inbox --config "$id.toml" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["report_id"] if d else "")')"
  node read --config "$id.toml" "$rid" >"logs/$id.read" 2>&1 || true
  check "$id reads only the Five Eyes portion" bash -c "grep -q 'Convoy sighted' logs/$id.read && ! grep -q 'Maritime patrol' logs/$id.read && ! grep -q 'Source identity' logs/$id.read"
done
rid="$(node inbox --config jpn-1.toml --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["report_id"] if d else "")')"
node read --config jpn-1.toml "$rid" >logs/jpn-1.read 2>&1 || true
check "jpn-1 reads only the Japan portion" bash -c "grep -q 'Maritime patrol' logs/jpn-1.read && ! grep -q 'Convoy sighted' logs/jpn-1.read && ! grep -q 'Source identity' logs/jpn-1.read"
scenario1_report="$rid"
kor_inbox="$(node inbox --config kor-1.toml --json 2>&1 || true)"
check "kor-1 inbox is empty" test "$kor_inbox" = "[]"

if [ "${TEARLINE_DEMO_SCENARIOS:-}" = 1 ]; then
  if [ "$failures" -ne 0 ]; then
    echo "demo: $failures expectation(s) of scenario 1 did not hold" >&2
    exit 1
  fi
  echo "demo: every expectation of scenario 1 held"
  exit 0
fi

bold "4. Scenario 2: Japan shares directly with Korea (no relay through a third nation)"
printf 'Missile launch detected at 0412 local time.\n' >reports/gsomia.txt
set +e
node send --config jpn-1.toml --to KOR --portion "SECRET//REL TO JPN, KOR" reports/gsomia.txt >logs/scenario2.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/scenario2.out
check "KOR receives Japan's report" grep -q "^KOR kor-1 \(DELIVERED\|QUEUED\) portions 1" logs/scenario2.out
check "send exits 0" test "$rc" -eq 0
sleep 1
check "delivered straight from jpn-1 to kor-1 (audit)" python3 - data/broker/audit/log.jsonl <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = any(r["type"] in ("delivered", "queued") and r.get("originator") == "jpn-1" and r.get("recipient") == "kor-1" for r in recs)
relay = any(r["type"] in ("delivered", "queued") and r.get("originator") == "jpn-1" and r.get("recipient") not in ("kor-1",) for r in recs)
sys.exit(0 if ok and not relay else 1)
PY

bold "4b. Release on request: JPN asks USA to release to KOR the portion JPN received in scenario 1"
# Today such material travels through a third capital or not at all. A standing authorisation in
# USA's policy (usa-jpn-secret-to-kor in deploy/policy/coalition.toml) approves it at once.
req_field() { python3 -c 'import json,sys; d=json.load(sys.stdin)["requests"]; r=[x for x in d if x["request_id"]==sys.argv[2]] if len(sys.argv)>2 else d; print(r[0][sys.argv[1]] if r else "")' "$@"; }
kor_before="$(node inbox --config kor-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
set +e
node request-release --config jpn-1.toml "$scenario1_report" --portion 2 --to KOR \
  --why "joint maritime patrol with ROK navy" --json >logs/release1.out 2>&1
rc=$?
set -e
check "the request is accepted by the broker (pending)" test "$rc" -eq 0
req1="$(req_field request_id <logs/release1.out)"
for _ in $(seq 50); do
  state="$(node requests --config jpn-1.toml --json | req_field state "$req1")"
  [ "$state" = approved ] && break
  sleep 0.1
done
node requests --config jpn-1.toml | grep "${req1:0:12}" | sed 's/^/    /'
node requests --config jpn-1.toml --json >logs/release1-requests.json
check "approved by the standing authorisation" grep -q usa-jpn-secret-to-kor logs/release1-requests.json
turn1="$(node requests --config jpn-1.toml --json | req_field turnaround_ms "$req1")"
check "decided in under a second (${turn1} ms)" test "${turn1:-99999}" -ge 0 -a "${turn1:-99999}" -lt 1000
for _ in $(seq 50); do
  kor_now="$(node inbox --config kor-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  [ "$kor_now" -gt "$kor_before" ] && break
  sleep 0.1
done
check "KOR receives the released portion" test "$kor_now" -gt "$kor_before"

bold "4c. A second request, answered by USA's disclosure officer with a sanitised version"
printf 'Maritime patrol expected in the area this week.\n' >reports/patrol-sanitised.txt
aus_before="$(node inbox --config aus-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
node request-release --config jpn-1.toml "$scenario1_report" --portion 2 --to AUS \
  --why "coordination with RAN" --json >logs/release2.out 2>&1
req2="$(req_field request_id <logs/release2.out)"
node requests --config usa-1.toml | sed 's/^/    /'
node approve --config usa-1.toml "${req2:0:8}" --sanitised reports/patrol-sanitised.txt \
  --label "(S//REL TO USA, AUS, JPN)" >logs/release2-approve.out 2>&1
for _ in $(seq 50); do
  state="$(node requests --config jpn-1.toml --json | req_field state "$req2")"
  [ "$state" = approved ] && break
  sleep 0.1
done
node requests --config jpn-1.toml | grep "${req2:0:12}" | sed 's/^/    /'
turn2="$(node requests --config jpn-1.toml --json | req_field turnaround_ms "$req2")"
check "approved with a sanitised version (turnaround ${turn2} ms)" bash -c "grep -q sanitised logs/release2-approve.out"
for _ in $(seq 50); do
  aus_now="$(node inbox --config aus-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  [ "$aus_now" -gt "$aus_before" ] && break
  sleep 0.1
done
check "AUS receives the sanitised version" test "$aus_now" -gt "$aus_before"
check "the audit log links request, approvals and the sanitised release" bash -c \
  "grep -q '\"release_auto_approved\"' data/broker/audit/log.jsonl && grep -q '\"release_sanitised\"' data/broker/audit/log.jsonl"
printf '  Turnaround: standing authorisation %s ms, officer with sanitised version %s ms\n' "$turn1" "$turn2"

bold "4d. Re-share within the label, and derived material stays releasable to its contributor"
# GBR holds the Five Eyes portion of scenario 1. USA's label releases it to AUS too, so GBR may
# forward it there itself; KOR is outside the label, so only USA can release it (4b shows how).
printf 'Convoy turned east at 0600.\n' >reports/fvey2.txt
node send --config usa-1.toml --to GBR --portion "(S//REL TO USA, FVEY)" reports/fvey2.txt --json \
  >logs/forward-source.out 2>&1 || true
fwd_src="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report_id"])' logs/forward-source.out 2>/dev/null || true)"
for _ in $(seq 50); do inbox_has gbr-1 "${fwd_src:0:8}" && break; sleep 0.1; done
aus_before="$(node inbox --config aus-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
set +e
node forward --config gbr-1.toml "$fwd_src" --to AUS >logs/forward-aus.out 2>&1
rc_aus=$?
node forward --config gbr-1.toml "$fwd_src" --to KOR >logs/forward-kor.out 2>&1
rc_kor=$?
set -e
sed 's/^/    /' logs/forward-aus.out logs/forward-kor.out
check "GBR forwards the Five Eyes portion to AUS" bash -c "[ $rc_aus -eq 0 ] && grep -q 'AUS aus-1 \(DELIVERED\|QUEUED\)' logs/forward-aus.out"
check "a forward to KOR is refused, with how to ask USA" bash -c "[ $rc_kor -ne 0 ] && grep -q FORWARD_NOT_RELEASABLE logs/forward-kor.out && grep -q request-release logs/forward-kor.out"
for _ in $(seq 50); do
  aus_now="$(node inbox --config aus-1.toml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  [ "$aus_now" -gt "$aus_before" ] && break
  sleep 0.1
done
fwd_aus="$(node inbox --config aus-1.toml --json | python3 -c 'import json,sys; d=[r for r in json.load(sys.stdin) if r.get("forwarder")=="gbr-1"]; print(d[0]["report_id"] if d else "")')"
node read --config aus-1.toml "$fwd_aus" >logs/forward-read.out 2>&1 || true
check "AUS sees the chain (originator usa-1, forwarded by gbr-1)" grep -q "forwarded by gbr-1" logs/forward-read.out
# AUS writes an assessment derived from that portion. A label that would no longer release it to
# USA, the contributor, is refused with the contributor and the fix named; the corrected label goes.
printf 'Assessment: the convoy is heading for the eastern port.\n' >reports/derived.txt
set +e
node send --config aus-1.toml --to GBR --portion "(S//REL TO AUS, GBR)" reports/derived.txt \
  --derived-from "${fwd_aus:0:8}:1" >logs/derived-refused.out 2>&1
rc_bad=$?
node send --config aus-1.toml --to GBR --portion "(S//REL TO USA, AUS, GBR)" reports/derived.txt \
  --derived-from "${fwd_aus:0:8}:1" >logs/derived-ok.out 2>&1
rc_ok=$?
set -e
sed 's/^/    /' logs/derived-refused.out logs/derived-ok.out
check "a derived label that drops USA is refused, naming USA" bash -c "[ $rc_bad -ne 0 ] && grep -q PROVENANCE_ logs/derived-refused.out && grep -q USA logs/derived-refused.out"
check "the corrected derived portion is delivered to GBR" bash -c "[ $rc_ok -eq 0 ] && grep -q 'GBR gbr-1 \(DELIVERED\|QUEUED\)' logs/derived-ok.out"

bold "5. Scenario 3: an analyst forgets the label"
printf 'Unmarked note.\n' >reports/unmarked.txt
set +e
node send --config usa-1.toml --to GBR --portion "" reports/unmarked.txt >logs/scenario3.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/scenario3.out
check "refused before leaving the node (exit 2)" test "$rc" -eq 2
check "the error names the portion and the fix" grep -q "portion 1" logs/scenario3.out

bold "6. Scenario 4: a node with a key the coalition did not issue tries to connect"
"$bin/tearline-certs" init-ca --out rogue-ca >>logs/certs.log
"$bin/tearline-certs" issue --ca rogue-ca --node usa-9 --nation USA --clearance SECRET --out rogue-certs >>logs/certs.log
set +e
"$bin/tearline-admin" probe --endpoint "$endpoint" --broker-cert certs/broker.cert \
  --secret rogue-certs/usa-9.secret --node usa-9 >logs/scenario4.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/scenario4.out
check "the broker gives the rogue key no service" test "$rc" -eq 1
check "the refusal is in the audit log" grep -q '"connection_refused"' data/broker/audit/log.jsonl
served() { "$bin/tearline-admin" probe "$@" >/dev/null; }
check "a coalition node's key is still served" served --endpoint "$endpoint" \
  --broker-cert certs/broker.cert --secret certs/gbr-1.secret --node gbr-1

bold "7. Summary"
python3 - data/broker/audit/log.jsonl <<'PY'
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1])]
print("  Who got what:")
for r in recs:
    if r["type"] in ("delivered", "queued") and "portions" in r:
        labels = ", ".join(p["label"] for p in r["portions"])
        print(f"    {r['originator']:>6} -> {r['recipient']:<6} {r['type']:<9} {labels}")
print("  Denials:")
for r in recs:
    if r["type"] == "denied":
        where = f"portion {r['portion'] + 1} {r['label']}" if "portion" in r else "whole report"
        print(f"    {r['originator']:>6} -> {r.get('recipient') or r['nation']:<6} {where}: {r['reason']}: {r['explanation']}")
counts = collections.Counter(r["type"] for r in recs)
print("  Audit records:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
PY

# Stopping the broker records broker_stop and signs a final checkpoint over the whole log.
cleanup
pids=()

bold "8. An auditor of another nation (GBR) checks the broker's audit directory"
# The auditor receives a copy of the directory, holds the coalition root (ca/) independently, and
# brings the checkpoint gbr-1 cosigned as a witness: a broker that rewrote history and re-signed
# it cannot match that checkpoint.
audit() { "$bin/tearline-audit" "$@"; }
mkdir -p auditor-gbr
tar -C data/broker -cf auditor-gbr/audit.tar audit
tar -C auditor-gbr -xf auditor-gbr/audit.tar
trusted=()
if [ -s data/gbr-1/witness/checkpoint ]; then
  cp data/gbr-1/witness/checkpoint auditor-gbr/gbr-1-cosigned-checkpoint
  trusted=(--trusted-checkpoint auditor-gbr/gbr-1-cosigned-checkpoint)
  echo "  trusted checkpoint: the one gbr-1 cosigned ($(sed -n 2p auditor-gbr/gbr-1-cosigned-checkpoint) records)"
fi
echo "  \$ tearline-audit verify auditor-gbr/audit --ca ca ${trusted[*]}"
set +e
audit verify auditor-gbr/audit --ca ca "${trusted[@]}" >logs/auditor-verify.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/auditor-verify.out
check "tearline-audit verify passes (exit 0)" test "$rc" -eq 0
echo "  \$ tearline-audit query auditor-gbr/audit --decision connection_refused"
audit query auditor-gbr/audit --decision connection_refused | sed 's/^/    /'
echo "  \$ tearline-audit custody auditor-gbr/audit $scenario1_report"
set +e
audit custody auditor-gbr/audit "$scenario1_report" >logs/auditor-custody.out 2>&1
rc=$?
set -e
grep -E '^(line |  inclusion)' logs/auditor-custody.out | sed 's/^/    /' || true
check "every record of scenario 1's report is proven in the signed checkpoint" test "$rc" -eq 0
echo "  \$ tearline-audit report auditor-gbr/audit --ca ca ${trusted[*]} --text --html audit-report.html"
set +e
audit report auditor-gbr/audit --ca ca "${trusted[@]}" --text --html audit-report.html \
  >logs/auditor-report.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/auditor-report.out
check "auditor's summary and HTML report written with verdict PASS" \
  grep -q "verification: PASS" logs/auditor-report.out
check "HTML audit report written (tearline-audit report exit 0)" test "$rc" -eq 0 -a -s audit-report.html
echo "  auditor's report: build/demo/audit-report.html"

echo
echo "Logs and data: build/demo/"
if [ "$failures" -ne 0 ]; then
  echo "demo: $failures expectation(s) did not hold" >&2
  exit 1
fi
echo "demo: every expectation held"
