#include "node_load.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "audit_watch.h"
#include "inbox_watch.h"
#include "tearline/net/socket.h"
#include "tearline/node/control_protocol.h"
#include "wait_until.h"

namespace tearline::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMarking = "UNCLASSIFIED";

struct Shared {
  std::mutex mu;
  LoadOutcome* out = nullptr;
  LiveCounters* live = nullptr;
  std::map<std::string, Clock::time_point> submitted_at;  // report id hex -> send start
};

// A send request of `plan.portions` random portions addressed to `to`.
std::string SendRequest(const LoadPlan& plan, const std::vector<std::string>& to) {
  node::ControlRequest request;
  request.op = node::ControlOp::kSend;
  request.to = to;
  request.timeout_ms = 60000;
  const std::size_t per_portion =
      std::max<std::size_t>(1, plan.size / static_cast<std::size_t>(plan.portions));
  for (int p = 0; p < plan.portions; ++p) {
    node::SendPortionRequest portion;
    portion.marking = kMarking;
    portion.content.resize(per_portion);
    randombytes_buf(portion.content.data(), portion.content.size());
    request.portions.push_back(std::move(portion));
  }
  return node::EncodeControlRequest(request);
}

// One analyst connection: sends `count` reports one after the other, on schedule.
void SendLoop(Shared& sh, net::Context& ctx, const std::filesystem::path& socket_file,
              const LoadPlan& plan, const std::vector<std::string>& to, std::uint64_t count,
              int slot, int slots, Clock::time_point t0) {
  auto sock = net::ConnectLocalDealer(ctx, socket_file,
                                      static_cast<std::int64_t>(node::kMaxControlMessageBytes),
                                      std::chrono::milliseconds(1000));
  if (!sock.ok()) return;
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(plan.max_seconds));
  for (std::uint64_t k = 0; k < count; ++k) {
    if (plan.rate > 0) {
      const double at = (static_cast<double>(k) * slots + slot) / plan.rate;
      std::this_thread::sleep_until(
          t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at)));
    }
    if (Clock::now() >= deadline) return;
    const std::string request = SendRequest(plan, to);
    const auto started = Clock::now();
    {
      std::lock_guard lock(sh.mu);
      ++sh.out->submitted;
      if (sh.out->start == SteadyTime{}) sh.out->start = started;
    }
    sh.live->submitted.fetch_add(1);
    if (sock->SendWaiting(request) != net::SendResult::kSent) return;
    if (!sock->WaitReadable(std::chrono::seconds(120))) return;
    auto reply = sock->TryReceive();
    if (!reply || reply->empty()) return;
    auto result = node::DecodeSendResponse(reply->front().str());
    std::lock_guard lock(sh.mu);
    if (!result.ok() || result->pending) {
      ++sh.out->refused;
      sh.live->refused.fetch_add(1);
      if (sh.out->first_refusal.empty()) {
        sh.out->first_refusal =
            result.ok() ? "pending: " + result->detail : result.status().ToString();
      }
      continue;
    }
    ++sh.out->accepted;
    sh.live->accepted.fetch_add(1);
    sh.out->last_accept = Clock::now();
    for (const auto& o : result->outcomes) {
      if (o.state != schema::DeliveryState::Denied) ++sh.out->expected_copies;
    }
    sh.submitted_at.emplace(result->report_id_hex, started);
  }
}

}  // namespace

Result<LoadOutcome> RunEndToEnd(Cluster& cluster, const LoadPlan& plan, LiveCounters& live,
                                const std::function<void()>& on_main_phase) {
  const auto& nodes = cluster.nodes();
  const int n = static_cast<int>(nodes.size());
  if (n < 2 || plan.recipients < 1 || plan.recipients > n - 1) {
    return InvalidArgument("BENCH_SETUP", "need at least recipients + 1 nodes");
  }
  LoadOutcome out;
  Shared sh;
  sh.out = &out;
  sh.live = &live;
  net::Context ctx;
  std::vector<std::filesystem::path> inboxes;
  for (const auto& node : nodes) inboxes.push_back(cluster.NodeDataDir(node.id) / "inbox");
  InboxWatch watch;
  if (auto st = watch.Start(inboxes); !st.ok()) return st;
  AuditWatch audit(cluster.BrokerDataDir());

  // Phase 1 (optional): queue for node 0 while its daemon is down, then time its drain.
  if (plan.queue_depth > 0) {
    LoadOutcome drain;
    LiveCounters quiet;
    sh.out = &drain;
    sh.live = &quiet;
    cluster.StopNode(nodes[0].id);
    LoadPlan fill = plan;
    fill.rate = 0;
    fill.max_seconds = plan.drain_timeout_seconds;
    const int slots = std::max(1, plan.in_flight);
    std::vector<std::thread> senders;
    const auto t0 = Clock::now();
    for (int slot = 0; slot < slots; ++slot) {
      const std::uint64_t count =
          plan.queue_depth / static_cast<std::uint64_t>(slots) +
          (static_cast<std::uint64_t>(slot) < plan.queue_depth % static_cast<std::uint64_t>(slots)
               ? 1
               : 0);
      senders.emplace_back([&, count, slot] {
        SendLoop(sh, ctx, cluster.NodeDataDir(nodes[1].id) / "control.sock", fill,
                 {nodes[0].nation}, count, slot, slots, t0);
      });
    }
    for (auto& t : senders) t.join();
    const std::uint64_t before = watch.count();
    const auto restart_at = Clock::now();
    if (auto st = cluster.StartNode(nodes[0].id); !st.ok()) return st;
    const std::uint64_t want = drain.expected_copies;
    WaitUntil([&] { return watch.count() - before >= want; }, plan.drain_timeout_seconds);
    out.drain_copies = watch.count() - before;
    Clock::time_point last = restart_at;
    for (const auto& e : watch.Events()) {
      if (e.durable) last = std::max(last, e.at);
    }
    out.drain_seconds = std::chrono::duration<double>(last - restart_at).count();
    if (Process* b = cluster.broker(); b != nullptr) {
      if (auto s = ReadProcSample(b->target_pid()); s.ok()) {
        out.drain_broker_peak_rss_kib = s->peak_rss_kib;
      }
    }
    WaitUntil([&] { return audit.Poll() >= out.drain_copies; }, 10);
    sh.out = &out;
    sh.live = &live;
  }

  const std::uint64_t events_before = watch.count();
  const std::size_t events_skip = watch.Events().size();
  const std::uint64_t acks_before = audit.Poll();
  const int slots = std::max(1, plan.in_flight);
  const int all_slots = slots * n;
  on_main_phase();
  std::vector<std::thread> senders;
  const auto t0 = Clock::now();
  for (int s = 0; s < n; ++s) {
    std::vector<std::string> to;
    for (int r = 1; r <= plan.recipients; ++r) {
      const std::string& nation = nodes[static_cast<std::size_t>((s + r) % n)].nation;
      if (std::find(to.begin(), to.end(), nation) == to.end()) to.push_back(nation);
    }
    for (int slot = 0; slot < slots; ++slot) {
      const int global = slot * n + s;
      const std::uint64_t total = plan.reports;
      const std::uint64_t count =
          total / static_cast<std::uint64_t>(all_slots) +
          (static_cast<std::uint64_t>(global) < total % static_cast<std::uint64_t>(all_slots) ? 1
                                                                                              : 0);
      senders.emplace_back([&, to, count, global, s] {
        SendLoop(sh, ctx,
                 cluster.NodeDataDir(nodes[static_cast<std::size_t>(s)].id) / "control.sock", plan,
                 to, count, global, all_slots, t0);
      });
    }
  }
  // Progress: copies in inboxes, as they arrive.
  std::atomic<bool> sending{true};
  std::thread progress([&] {
    while (sending.load()) {
      live.delivered.store(watch.count() - events_before);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  for (auto& t : senders) t.join();
  std::uint64_t expected = 0;
  {
    std::lock_guard lock(sh.mu);
    expected = out.expected_copies;
  }
  WaitUntil([&] { return watch.count() - events_before >= expected; }, plan.drain_timeout_seconds);
  WaitUntil(
      [&] {
        const std::uint64_t acked = audit.Poll() - acks_before;
        live.acknowledged.store(acked);
        return acked >= expected;
      },
      plan.drain_timeout_seconds);
  out.last_ack = Clock::now();
  out.acknowledged_copies = audit.acknowledged() - acks_before;
  sending = false;
  progress.join();
  watch.Stop();

  const auto events = watch.Events();
  std::set<std::pair<int, std::string>> seen, renamed;
  std::lock_guard lock(sh.mu);
  auto since_send = [&sh](const InboxWatch::Event& e) -> std::optional<double> {
    auto it = sh.submitted_at.find(e.report_id_hex);
    if (it == sh.submitted_at.end()) return std::nullopt;
    return std::chrono::duration<double>(e.at - it->second).count() * 1000;
  };
  for (std::size_t i = events_skip; i < events.size(); ++i) {
    const auto& e = events[i];
    if (!e.durable) {  // The rename, before the recipient's sync: shown for comparison.
      if (!renamed.insert({e.node, e.report_id_hex}).second) continue;
      if (auto ms = since_send(e)) out.stored_latency_ms.push_back(*ms);
      continue;
    }
    if (!seen.insert({e.node, e.report_id_hex}).second) {
      ++out.duplicate_copies;
      continue;
    }
    ++out.delivered_copies;
    out.last_delivery = std::max(out.last_delivery, e.at);
    if (auto ms = since_send(e)) out.latency_ms.push_back(*ms);
  }
  live.delivered.store(out.delivered_copies);
  return out;
}

}  // namespace tearline::bench
