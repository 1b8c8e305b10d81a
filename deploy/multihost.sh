#!/usr/bin/env bash
# Tearline across hosts, on one machine: a broker host and four nation hosts (USA, GBR, JPN, KOR),
# each a Linux network namespace with its own private address, joined through a bridge that lives
# in a fifth namespace (the "switch"), so nothing touches the machine's own network and nothing
# leaves it. The broker and the nodes run in their namespaces with their own data directories and
# configurations naming those addresses. The demo's scenarios run across it, then network faults:
#
#   latency   100 ms with 20 ms jitter each way between the nodes and the broker
#   loss      5% of the broker host's packets dropped, both directions
#   cut-kor   KOR's link down for 30 s while the other nations keep sending to it
#   cut-broker  the broker host's link down while every nation sends
#   kill      the broker killed (SIGKILL) during traffic and started again
#
# After each fault: every report the broker accepted reaches every recipient it was released to
# exactly once (each node's inbox against the audit log's delivered/queued records), every send
# the nodes made was accepted (none lost in an outbox), every witness cosigns the broker's latest
# checkpoint, and at the end `tearline-audit verify` passes against each witness's checkpoint.
# For each fault it prints one line:
#   fault=NAME emulation=HOW delivered=N expected=N duplicates=0 unexpected=0 converge_ms=T
# and exits 0 only if every expectation held.
#
# Faults use `tc netem` when the kernel has it; otherwise it says so and emulates them: latency
# with tearline-delay-relay (a TCP relay delaying each chunk; the nodes connect through it), loss
# with an nftables rule (`numgen random mod 100 < 5 drop`), cuts with `ip link set down`.
#
# Needs root (network namespaces). Exits 77 with a line "multihost: SKIP <reason>" when
# namespaces cannot be made (not root, no permission, no ip/nft).
# Names (namespaces, interfaces) and the 10.X.Y.0/24 subnet derive from the script's PID, so two
# runs cannot clash; a trap removes namespaces, links, nft tables and processes on any exit, and
# a run first removes what an earlier run that was killed (SIGKILL) left behind.
#
#   TEARLINE_MULTIHOST_BIN=DIR     programs (default build/bin; otherwise builds them first)
#   TEARLINE_MULTIHOST_DIR=DIR     work directory (default build/multihost/; emptied first)
#   TEARLINE_MULTIHOST_CUT_S=N     seconds KOR is cut off (default 30)
#   TEARLINE_MULTIHOST_TIMEOUT_S=N the whole run's bound (default 300): then it stops and fails
#   TEARLINE_MULTIHOST_NO_NETEM=1  emulate even when netem exists (tests the emulation)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

skip() { echo "multihost: SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces (uid $(id -u))"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed (deploy/install-deps.sh installs it)"

if [ -z "${TEARLINE_MULTIHOST_BIN:-}" ]; then
  ./deploy/install-deps.sh
  echo "== building"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "${TEARLINE_JOBS:-$(nproc)}" --target tearline-certs tearline-broker \
    tearline-node tearline-admin tearline-audit tearline-delay-relay >/dev/null
fi
bin="${TEARLINE_MULTIHOST_BIN:-$root/build/bin}"
work="${TEARLINE_MULTIHOST_DIR:-$root/build/multihost}"
cut_s="${TEARLINE_MULTIHOST_CUT_S:-30}"
timeout_s="${TEARLINE_MULTIHOST_TIMEOUT_S:-300}"

# ---------------------------------------------------------------------------------------------
# Names and addresses from the PID: interface names stay within 15 characters.
tag="tl$$"
subnet="10.$((($$ >> 8) & 255)).$(($$ & 255))"
hosts=(broker usa-1 gbr-1 jpn-1 kor-1)
nodes=(usa-1 gbr-1 jpn-1 kor-1)
declare -A nation=([usa-1]=USA [gbr-1]=GBR [jpn-1]=JPN [kor-1]=KOR)
declare -A ns addr link
for i in "${!hosts[@]}"; do
  h="${hosts[$i]}"
  ns[$h]="$tag-$h"
  addr[$h]="$subnet.$((10 + i))"
  link[$h]="${tag}v$i"
done
switch="$tag-switch"
port=7400
relay_port=7401

pids=()
relay_pid=""
broker_pid=""
declare -A node_pid
made_ns=()

# Everything this run made goes, on any exit: processes first (so no namespace is held), then
# the namespaces, which take their links, bridge and nft tables with them.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "${watchdog:-}" ] && kill "$watchdog" 2>/dev/null || true
  local all=("${pids[@]}")
  for n in "${made_ns[@]}"; do
    while read -r p; do [ -n "$p" ] && all+=("$p"); done < <(ip netns pids "$n" 2>/dev/null || true)
  done
  for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${all[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for n in "${made_ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "multihost: interrupted" >&2; exit 1' INT TERM
# The whole run is bounded: past it the run stops (the trap cleans up) and fails.
(
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$timeout_s" &
  s=$!
  wait "$s"
  echo "multihost: timed out after ${timeout_s}s" >&2
  kill -TERM $$
) &
watchdog=$!

# Namespaces left by an earlier run whose script is gone (killed with SIGKILL, no trap ran).
for stale in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^tl[0-9]+-' || true); do
  owner="${stale#tl}"; owner="${owner%%-*}"
  if ! kill -0 "$owner" 2>/dev/null; then
    for p in $(ip netns pids "$stale" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$stale" 2>/dev/null || true
  fi
done

rm -rf "$work"
mkdir -p "$work/logs" "$work/data" "$work/reports"
cd "$work"

failures=0
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# eventually COMMAND...: polls (10 s at most) for an effect that follows asynchronously.
eventually() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
now_ms() { date +%s%3N; }
in_ns() { local h="$1"; shift; ip netns exec "${ns[$h]}" "$@"; }

bold "1. Network: a switch and five hosts in namespaces ($subnet.0/24, names $tag-*)"
ip netns add "$switch" 2>logs/netns.err || skip "cannot create a network namespace: $(cat logs/netns.err)"
made_ns+=("$switch")
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
for h in "${hosts[@]}"; do
  ip netns add "${ns[$h]}"
  made_ns+=("${ns[$h]}")
  ip -n "${ns[$h]}" link set lo up
  # Each host's end is eth0 in its namespace; the switch's end is enslaved to the bridge.
  ip link add "${link[$h]}" netns "$switch" type veth peer name eth0 netns "${ns[$h]}"
  ip -n "$switch" link set "${link[$h]}" master br0 up
  ip -n "${ns[$h]}" addr add "${addr[$h]}/24" dev eth0
  ip -n "${ns[$h]}" link set eth0 up
  printf '  %-7s %-15s namespace %s\n' "$h" "${addr[$h]}" "${ns[$h]}"
done

netem=0
if [ -z "${TEARLINE_MULTIHOST_NO_NETEM:-}" ] &&
  in_ns broker tc qdisc add dev eth0 root netem delay 0ms 2>/dev/null; then
  in_ns broker tc qdisc del dev eth0 root
  netem=1
  echo "  faults: tc netem (the kernel has sch_netem)"
else
  command -v nft >/dev/null 2>&1 || skip "no sch_netem and no nft (deploy/install-deps.sh installs nftables)"
  echo "  faults: this kernel has no sch_netem: latency by tearline-delay-relay, loss by nftables, cuts by link state"
fi

bold "2. Coalition identities and configurations naming the hosts' addresses"
"$bin/tearline-certs" init-ca --out ca >logs/certs.log
"$bin/tearline-certs" issue --ca ca --node broker --nation USA --clearance "TOP SECRET" --role broker --out certs >>logs/certs.log
for id in "${nodes[@]}"; do
  "$bin/tearline-certs" issue --ca ca --node "$id" --nation "${nation[$id]}" --clearance SECRET --out certs >>logs/certs.log
done
cat >broker.toml <<TOML
[broker]
id = "broker"
endpoint = "tcp://${addr[broker]}:$port"
certificate = "certs/broker.cert"
secret = "certs/broker.secret"
ca_dir = "ca"
directory = "certs"
data_dir = "data/broker"
head_file = "data/broker.head"
# Short intervals: the faults heal within seconds and the run stays short.
heartbeat_ms = 250
checkpoint_interval_ms = 500
redeliver_after_ms = 1000
TOML
# node_config ID ENDPOINT: the node's configuration, naming the broker by address.
node_config() {
  cat >"$1.toml" <<TOML
[node]
id = "$1"
broker_endpoint = "$2"
broker_certificate = "certs/broker.cert"
certificate = "certs/$1.cert"
secret = "certs/$1.secret"
ca_dir = "ca"
data_dir = "data/$1"
heartbeat_ms = 250
TOML
}
direct="tcp://${addr[broker]}:$port"
for id in "${nodes[@]}"; do node_config "$id" "$direct"; done
echo "  broker $direct; nodes connect to it from their own addresses"
check "no configuration names 127.0.0.1" bash -c '! grep -l "127\.0\.0\.1" ./*.toml'


start_broker() {
  # `ip netns exec` execs the program: $! is the daemon itself (a shell function would not be).
  ip netns exec "${ns[broker]}" "$bin/tearline-broker" --config broker.toml >>logs/broker.log 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
}
start_node() {
  ip netns exec "${ns[$1]}" "$bin/tearline-node" run --config "$1.toml" >>"logs/$1.log" 2>&1 &
  node_pid[$1]=$!
  pids+=("$!")
}
stop_node() {
  local p="${node_pid[$1]}"
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}
node() { local h="$2"; in_ns "$h" "$bin/tearline-node" "$1" --config "$h.toml" "${@:3}"; }
status_field() { node status "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2" 2>/dev/null || true; }
wait_connected() {
  for h in "$@"; do
    local ok=0
    for _ in $(seq 200); do [ "$(status_field "$h" connected)" = True ] && { ok=1; break; }; sleep 0.1; done
    [ "$ok" -eq 1 ] || { fail "$h connected to the broker"; return 1; }
  done
}

bold "3. Broker and four national nodes, each on its own host"
start_broker
for _ in $(seq 100); do [ -s data/broker/endpoint ] && break; sleep 0.1; done
for id in "${nodes[@]}"; do start_node "$id"; done
wait_connected "${nodes[@]}" && pass "usa-1, gbr-1, jpn-1, kor-1 connected to ${addr[broker]}:$port"

# ---------------------------------------------------------------------------------------------
# Traffic and accounting. Every send's JSON answer goes to logs/sends.jsonl; the report ids in it
# must all be accepted by the broker in the end (a pending send is in the outbox and resent).
seq_no=0
phase=baseline
send() {  # send FROM TO MARKING [TIMEOUT_S]
  local from="$1" to="$2" marking="$3" t="${4:-3}"
  seq_no=$((seq_no + 1))
  # Unique also for sends from a background subshell (its own seq_no).
  local file="reports/r$BASHPID-$seq_no.txt"
  printf 'report %d from %s to %s at %s\n' "$seq_no" "$from" "$to" "$(date +%T.%N)" >"$file"
  local out rc=0 t0
  t0="$(now_ms)"
  out="$(node send "$from" --json --timeout "$t" --to "$to" --portion "$marking" "$file" 2>>logs/send.err)" || rc=$?
  printf '%s\n' "$out" | python3 -c 'import json,sys
try: d=json.loads(sys.stdin.read())
except Exception: d={}
print(json.dumps({"seq": int(sys.argv[1]), "from": sys.argv[2], "rc": int(sys.argv[3]), "report_id": d.get("report_id", ""),
                  "phase": sys.argv[4], "ms": int(sys.argv[5])}))' \
    "$seq_no" "$from" "$rc" "$phase" "$(($(now_ms) - t0))" >>logs/sends.jsonl
}
# A round of sends: each nation to each other nation it may share with, under one label.
round() {
  local t="${1:-3}"
  send usa-1 GBR,JPN,KOR "SECRET//REL TO USA, GBR, JPN, KOR" "$t"
  send gbr-1 USA,JPN "SECRET//REL TO GBR, USA, JPN" "$t"
  send jpn-1 KOR "SECRET//REL TO JPN, KOR" "$t"
  send kor-1 USA,JPN "SECRET//REL TO KOR, USA, JPN" "$t"
}

# Compares every inbox with the audit log. Prints "delivered=N expected=N duplicates=N
# unexpected=N unaccepted=N" and exits 0 when everything released arrived exactly once.
account() {
  for h in "${nodes[@]}"; do
    node inbox "$h" --json >"logs/inbox-$h.json" 2>/dev/null || echo null >"logs/inbox-$h.json"
  done
  python3 - data/broker/audit/log.jsonl logs/sends.jsonl "${nodes[@]}" <<'PY'
import collections, json, sys
log, sends, nodes = sys.argv[1], sys.argv[2], sys.argv[3:]
recs = []
for line in open(log):
    try: recs.append(json.loads(line))
    except ValueError: pass  # A torn last line while the broker writes (or after SIGKILL).
accepted = {r["report_id"] for r in recs if r.get("type") == "accepted"}
released = {(r["report_id"], r["recipient"]) for r in recs
            if r.get("type") in ("delivered", "queued") and r["report_id"] in accepted}
sent = [json.loads(l) for l in open(sends)]
unaccepted = [s for s in sent if s["report_id"] and s["report_id"] not in accepted]
noid = [s for s in sent if not s["report_id"]]
got = collections.Counter()
ok_inboxes = True
for n in nodes:
    try: inbox = json.load(open(f"logs/inbox-{n}.json"))
    except ValueError: inbox = None
    if not isinstance(inbox, list): ok_inboxes = False; continue
    for e in inbox: got[(e["report_id"], n)] += 1
delivered = sum(1 for k in released if got[k] == 1)
dups = sum(c - 1 for k, c in got.items() if c > 1)
unexpected = sum(c for k, c in got.items() if k not in released)
print(f"delivered={delivered} expected={len(released)} duplicates={dups} unexpected={unexpected} "
      f"unaccepted={len(unaccepted)} unsealed={len(noid)} sends={len(sent)}")
good = ok_inboxes and delivered == len(released) and dups == 0 and unexpected == 0 and not unaccepted and not noid
sys.exit(0 if good else 1)
PY
}

# The sends of phase NAME: how many, how many were left pending (exit 3: kept in the outbox and
# resent) and the median time the analyst waited for the broker's answer.
phase_figures() {
  python3 - "$1" <<'PY'
import json, statistics, sys
s = [d for d in map(json.loads, open("logs/sends.jsonl")) if d.get("phase") == sys.argv[1]]
median = int(statistics.median(d["ms"] for d in s)) if s else 0
print(f"phase_sends={len(s)} pending={sum(d['rc'] == 3 for d in s)} send_ms_median={median}")
PY
}

witnesses_at_least() {
  for h in "${nodes[@]}"; do
    local w
    w="$(status_field "$h" witnessed_size)"
    [ "${w:-0}" -ge "$1" ] || return 1
  done
}

# converge NAME EMULATION START_MS: waits (bounded) until every release arrived exactly once and
# every witness cosigned a checkpoint covering the log as it was then; prints the fault's line.
converge() {
  local name="$1" how="$2" start="$3" bound_s="${4:-60}"
  local line="" ok=0 deadline=$(($(now_ms) + bound_s * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if line="$(account)"; then ok=1; break; fi
    sleep 0.25
  done
  local delivered_ms=$(($(now_ms) - start))
  local wok=0 size
  size="$(wc -l <data/broker/audit/log.jsonl)"
  if [ "$ok" -eq 1 ]; then
    while [ "$(now_ms)" -lt "$deadline" ]; do
      witnesses_at_least "$size" && { wok=1; break; }
      sleep 0.25
    done
  fi
  local witness_ms=$(($(now_ms) - start))
  local sends
  sends="$(phase_figures "$name")"
  printf 'fault=%s emulation=%s %s %s converge_ms=%d witnesses_ms=%d\n' "$name" "$how" "$line" \
    "$sends" "$delivered_ms" "$witness_ms" | tee -a logs/figures.txt
  check "$name: every accepted report reached every recipient exactly once" test "$ok" -eq 1
  check "$name: every witness cosigned a checkpoint of >= $size records" test "$wok" -eq 1
}

# ---------------------------------------------------------------------------------------------
bold "4. The demo's scenarios across hosts"
printf 'Convoy sighted at grid 31U, moving north.\n' >reports/fvey.txt
printf 'Maritime patrol schedule for the Sea of Japan.\n' >reports/jpn.txt
printf 'Source identity and collection method.\n' >reports/nf.txt
set +e
node send usa-1 --to GBR,JPN,KOR --portion "(S//REL TO USA, FVEY)" reports/fvey.txt \
  --portion "(S//REL TO USA, JPN)" reports/jpn.txt --portion "(S//NF)" reports/nf.txt >logs/scenario1.out 2>&1
rc=$?
set -e
sed 's/^/    /' logs/scenario1.out
check "GBR receives the Five Eyes portion" grep -q "^GBR gbr-1 \(DELIVERED\|QUEUED\) portions 1\b" logs/scenario1.out
check "JPN receives the Japan portion" grep -q "^JPN jpn-1 \(DELIVERED\|QUEUED\) portions 2\b" logs/scenario1.out
check "KOR receives nothing, with reasons" grep -q "^KOR kor-1 DENIED: portion 1 NOT_RELEASABLE" logs/scenario1.out
check "send exits 1 because KOR got nothing" test "$rc" -eq 1
# Its report id, for the accounting: the broker's latest `accepted` record from usa-1.
rid="$(python3 -c 'import json,sys
ids=[r["report_id"] for r in map(json.loads, open(sys.argv[1])) if r["type"]=="accepted" and r["originator"]=="usa-1"]
print(ids[-1] if ids else "")' data/broker/audit/log.jsonl)"
printf '{"seq": 0, "from": "usa-1", "rc": %d, "report_id": "%s"}\n' "$rc" "$rid" >>logs/sends.jsonl
send jpn-1 KOR "SECRET//REL TO JPN, KOR" 15
check "scenario 2: Japan shares directly with Korea" bash -c "tail -1 logs/sends.jsonl | grep -q '\"rc\": 0'"
"$bin/tearline-certs" init-ca --out rogue-ca >>logs/certs.log
"$bin/tearline-certs" issue --ca rogue-ca --node usa-9 --nation USA --clearance SECRET --out rogue-certs >>logs/certs.log
set +e
in_ns usa-1 "$bin/tearline-admin" probe --endpoint "$direct" --broker-cert certs/broker.cert \
  --secret rogue-certs/usa-9.secret --node usa-9 >logs/scenario4.out 2>&1
rc=$?
set -e
check "scenario 4: a key the coalition did not issue gets no service (from ${addr[usa-1]})" test "$rc" -eq 1
check "the refusal names the host's address in the audit log" eventually grep -q "connection_refused.*${addr[usa-1]}\|${addr[usa-1]}.*connection_refused" data/broker/audit/log.jsonl
round
converge baseline none "$(now_ms)"

# ---------------------------------------------------------------------------------------------
phase=latency
bold "5. Fault: 100 ms latency with 20 ms jitter between the nations and the broker"
if [ "$netem" -eq 1 ]; then
  how=netem
  # Both ways, as through the relay: each node's link and the broker's.
  for h in "${hosts[@]}"; do in_ns "$h" tc qdisc add dev eth0 root netem delay 100ms 20ms; done
else
  how=relay
  ip netns exec "${ns[broker]}" "$bin/tearline-delay-relay" --listen "${addr[broker]}:$relay_port" \
    --connect "${addr[broker]}:$port" --delay-ms 100 --jitter-ms 20 >logs/relay.log 2>&1 &
  relay_pid=$!
  pids+=("$relay_pid")
  for _ in $(seq 50); do grep -q relay_listening logs/relay.log && break; sleep 0.1; done
  # The nodes connect through the relay: their configurations name its port, and they restart.
  for h in "${nodes[@]}"; do
    stop_node "$h"
    node_config "$h" "tcp://${addr[broker]}:$relay_port"
    start_node "$h"
  done
fi
wait_connected "${nodes[@]}" || true
start="$(now_ms)"
round 5
round 5
converge latency "$how" "$start"
if [ "$netem" -eq 1 ]; then
  for h in "${hosts[@]}"; do in_ns "$h" tc qdisc del dev eth0 root; done
else
  for h in "${nodes[@]}"; do
    stop_node "$h"
    node_config "$h" "$direct"
    start_node "$h"
  done
  kill -TERM "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  check "the relay carried the nodes' connections" grep -q "relay_stopped connections=[1-9]" logs/relay.log
fi
wait_connected "${nodes[@]}" || true

# ---------------------------------------------------------------------------------------------
phase=loss
bold "6. Fault: 5% packet loss on the broker host's link"
if [ "$netem" -eq 1 ]; then
  how=netem
  in_ns broker tc qdisc add dev eth0 root netem loss 5%
else
  how=nft
  in_ns broker nft -f - <<'NFT'
table inet tearline_fault {
  chain input { type filter hook input priority 0; policy accept; iifname "eth0" numgen random mod 100 < 5 counter drop; }
  chain output { type filter hook output priority 0; policy accept; oifname "eth0" numgen random mod 100 < 5 counter drop; }
}
NFT
fi
start="$(now_ms)"
round 5
round 5
converge loss "$how" "$start"
if [ "$netem" -eq 1 ]; then in_ns broker tc qdisc del dev eth0 root; else
  in_ns broker nft list table inet tearline_fault >logs/loss-nft.txt 2>&1 || true
  in_ns broker nft delete table inet tearline_fault
  dropped="$(sed -n 's/.*counter packets \([0-9]*\).*/\1/p' logs/loss-nft.txt | awk '{s += $1} END {print s + 0}')"
  check "nftables dropped packets of the broker host ($dropped)" test "${dropped:-0}" -gt 0
fi

# ---------------------------------------------------------------------------------------------
phase=cut-kor
bold "7. Fault: KOR cut off for ${cut_s} s while the others keep sending to it"
queued_for_kor() { grep '"queued"' data/broker/audit/log.jsonl | grep -c '"recipient":"kor-1"' || true; }
kor_queued_before="$(queued_for_kor)"
in_ns kor-1 ip link set eth0 down
cut_start="$(now_ms)"
kor_sends=0
while [ $(($(now_ms) - cut_start)) -lt $((cut_s * 1000)) ]; do
  send usa-1 KOR "SECRET//REL TO USA, KOR"
  send jpn-1 KOR "SECRET//REL TO JPN, KOR"
  send gbr-1 USA,KOR "SECRET//REL TO GBR, USA, KOR"
  kor_sends=$((kor_sends + 3))
  sleep 2
done
in_ns kor-1 ip link set eth0 up
check "the broker stored copies for the unreachable kor-1 ($(($(queued_for_kor) - kor_queued_before)) queued)" \
  test "$(queued_for_kor)" -gt "$kor_queued_before"
echo "  $kor_sends reports sent to KOR during the cut"
converge cut-kor link-down "$(now_ms)"

# ---------------------------------------------------------------------------------------------
phase=cut-broker
bold "8. Fault: the broker host cut off while every nation sends"
in_ns broker ip link set eth0 down
round 1
round 1
in_ns broker ip link set eth0 up
converge cut-broker link-down "$(now_ms)"

# ---------------------------------------------------------------------------------------------
phase=kill
bold "9. Fault: the broker killed (SIGKILL) during traffic and started again"
(
  for _ in 1 2 3 4; do round 2; done
) &
traffic=$!
sleep 1.5
kill -KILL "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
sleep 2
start_broker
wait "$traffic" || true
start="$(now_ms)"
converge kill sigkill "$start"
check "the restarted broker recorded its start" test "$(grep -c '"broker_start"' data/broker/audit/log.jsonl)" -ge 2

# ---------------------------------------------------------------------------------------------
bold "10. Audit: the broker stops; tearline-audit verify against each witness's checkpoint"
kill -TERM "$broker_pid"
for _ in $(seq 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
for h in "${nodes[@]}"; do
  set +e
  "$bin/tearline-audit" verify data/broker/audit --ca ca --trusted-checkpoint "data/$h/witness/checkpoint" \
    >"logs/verify-$h.out" 2>&1
  rc=$?
  set -e
  check "tearline-audit verify passes with $h's cosigned checkpoint ($(sed -n 2p "data/$h/witness/checkpoint" 2>/dev/null) records)" test "$rc" -eq 0
done

bold "11. Figures"
cat logs/figures.txt
echo
echo "Logs and data: $work"
if [ "$failures" -ne 0 ]; then
  echo "multihost: $failures expectation(s) did not hold" >&2
  exit 1
fi
echo "multihost: every expectation held"
