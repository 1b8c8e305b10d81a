#include "wire_load.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "audit_watch.h"
#include "envelope_codec.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/policy.h"
#include "tearline/net/socket.h"
#include "tearline/wire/wire.h"
#include "wait_until.h"

namespace tearline::bench {
namespace {

using Clock = std::chrono::steady_clock;

Status SetupError(std::string message) {
  return {Code::kUnavailable, "BENCH_SETUP", std::move(message)};
}

// A marking every benchmark nation may receive.
constexpr const char* kMarking = "UNCLASSIFIED";

struct Member {
  std::string id;
  IdentityKeys keys;
  Certificate cert;
};

// One pre-sealed report: the Submit frame and, per recipient, its acknowledgement signature.
struct Prepared {
  std::vector<std::uint8_t> submit;
  std::uint64_t index = 0;  // Global, into the submit-time table.
  int copies = 0;
};

// Everything the node threads share. Written before they start, except the atomics and the
// guarded outcome fields.
struct Shared {
  std::vector<std::unique_ptr<Member>> members;
  // recipient -> report id -> (report index, ack signature)
  std::vector<std::map<ReportId, std::pair<std::uint64_t, Signature>>> acks;
  std::unique_ptr<std::atomic<std::int64_t>[]> submit_ns;  // Clock ns per report index.
  std::atomic<bool> stop{false};
  std::mutex mu;
  LoadOutcome* out = nullptr;
  LiveCounters* live = nullptr;
  Certificate broker_cert;
  std::string endpoint;
};

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

Result<std::vector<Prepared>> SealFor(Shared& sh, const Policy& policy, int sender,
                                      const std::vector<int>& recipients, std::uint64_t count,
                                      const LoadPlan& plan, std::uint64_t& next_index) {
  std::vector<Prepared> out;
  out.reserve(count);
  const Member& from = *sh.members[static_cast<std::size_t>(sender)];
  const auto level = policy.FindLevel("SECRET");
  const std::int64_t now = std::time(nullptr);
  const std::size_t per_portion =
      std::max<std::size_t>(1, plan.size / static_cast<std::size_t>(plan.portions));
  for (std::uint64_t k = 0; k < count; ++k) {
    SealInput in;
    in.originator = from.id;
    in.originator_nation = from.cert.fields().nation;
    in.created_unix = now - 5;
    in.expires_unix = now + 86400;
    for (int p = 0; p < plan.portions; ++p) {
      SealPortion portion;
      portion.marking = kMarking;
      portion.plaintext.resize(per_portion);
      randombytes_buf(portion.plaintext.data(), portion.plaintext.size());
      in.portions.push_back(std::move(portion));
    }
    for (int r : recipients) {
      const Member& to = *sh.members[static_cast<std::size_t>(r)];
      SealRecipient rec;
      rec.node_id = to.id;
      rec.nation = to.cert.fields().nation;
      rec.clearance = level;
      rec.enc_public_key = to.cert.fields().encryption_key;
      in.recipients.push_back(rec);
      in.intended_nations.push_back(rec.nation);
    }
    auto sealed = Seal(in, from.keys.signing.secret_key, policy);
    if (!sealed.ok()) return sealed.status();
    Prepared p;
    p.index = next_index++;
    p.copies = static_cast<int>(recipients.size());
    p.submit = EncodeSubmit(p.index + 1, sealed->bytes);
    for (int r : recipients) {
      const Member& to = *sh.members[static_cast<std::size_t>(r)];
      auto sig = SignWithDomain(to.keys.signing, kAckDomain, AckMessage(sealed->report_id, to.id));
      if (!sig.ok()) return sig.status();
      sh.acks[static_cast<std::size_t>(r)][sealed->report_id] = {p.index, *sig};
    }
    out.push_back(std::move(p));
  }
  return out;
}

// One benchmark node: its socket, what it submits, and its share of the counting.
class NodeThread {
 public:
  NodeThread(Shared& sh, int self, std::vector<Prepared> reports, const LoadPlan& plan, int senders,
             int sender_rank)
      : sh_(sh),
        self_(self),
        reports_(std::move(reports)),
        plan_(plan),
        senders_(senders),
        rank_(sender_rank) {}

  Status Connect(net::Context& ctx) {
    const Member& me = *sh_.members[static_cast<std::size_t>(self_)];
    net::CurveClientOptions o;
    o.endpoint = sh_.endpoint;
    o.server_key = sh_.broker_cert.fields().transport_key;
    o.public_key = me.keys.transport.public_key;
    o.secret_key = {me.keys.transport.secret_key.data(), me.keys.transport.secret_key.size()};
    o.immediate = false;
    o.receive_hwm = 100000;
    auto socket = net::ConnectCurveDealer(ctx, o);
    if (!socket.ok()) return socket.status();
    socket_ = std::move(socket).value();
    const auto hello = EncodeHello(0, me.id);
    if (socket_.SendWaiting({reinterpret_cast<const char*>(hello.data()), hello.size()}) !=
        net::SendResult::kSent) {
      return SetupError(me.id + " could not send Hello");
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (!socket_.WaitReadable(std::chrono::milliseconds(100))) continue;
      auto parts = socket_.TryReceive();
      if (!parts || parts->empty()) continue;
      std::vector<std::uint8_t> storage;
      auto f = DecodeFrame(AlignedForDecode(parts->front().bytes(), storage));
      if (f.ok() && (*f)->body_type() == schema::Body::Welcome) return {};
      if (f.ok() && (*f)->body_type() == schema::Body::Error) {
        return SetupError(me.id + " was refused by the broker");
      }
    }
    return SetupError(me.id + " got no Welcome");
  }

  // Runs until stop is set: submits on schedule, answers every Deliver with its Ack.
  void Run(Clock::time_point t0) {
    std::size_t next = 0;
    int in_flight = 0;
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(plan_.max_seconds));
    while (!sh_.stop.load()) {
      const auto now = Clock::now();
      while (next < reports_.size() && in_flight < plan_.in_flight && now < deadline &&
             Due(next, t0) <= now) {
        const Prepared& p = reports_[next];
        sh_.submit_ns[p.index].store(NowNs());
        if (socket_.Send(std::span<const std::uint8_t>(p.submit)) != net::SendResult::kSent) break;
        ++next;
        ++in_flight;
        sh_.live->submitted.fetch_add(1);
        std::lock_guard lock(sh_.mu);
        ++sh_.out->submitted;
        if (sh_.out->start == SteadyTime{}) sh_.out->start = now;
      }
      if (socket_.WaitReadable(std::chrono::milliseconds(1))) {
        while (auto parts = socket_.TryReceive()) {
          if (parts->empty()) continue;
          Handle(parts->front().bytes(), in_flight);
        }
      }
    }
  }

  std::size_t planned() const { return reports_.size(); }

 private:
  Clock::time_point Due(std::size_t k, Clock::time_point t0) const {
    if (plan_.rate <= 0) return t0;
    const double at = (static_cast<double>(k) * senders_ + rank_) / plan_.rate;
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at));
  }

  void Handle(std::span<const std::uint8_t> bytes, int& in_flight) {
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    if (!f.ok()) return;
    const schema::Frame* frame = *f;
    switch (frame->body_type()) {
      case schema::Body::SubmitReply: {
        --in_flight;
        const SubmitReplyInfo info = ToSubmitReplyInfo(*frame->body_as_SubmitReply());
        std::uint64_t copies = 0;
        for (const auto& o : info.outcomes) {
          if (o.state != schema::DeliveryState::Denied) ++copies;
        }
        std::lock_guard lock(sh_.mu);
        if (info.accepted) {
          ++sh_.out->accepted;
          sh_.out->expected_copies += copies;
          sh_.out->last_accept = Clock::now();
          sh_.live->accepted.fetch_add(1);
        } else {
          ++sh_.out->refused;
          sh_.live->refused.fetch_add(1);
          if (sh_.out->first_refusal.empty()) {
            sh_.out->first_refusal = info.error_reason + ": " + info.error_message;
          }
        }
        return;
      }
      case schema::Body::Deliver: {
        const auto* report = frame->body_as_Deliver()->report();
        if (report == nullptr) return;
        const std::int64_t at = NowNs();
        auto header = envelope_internal::DecodeHeader({report->data(), report->size()});
        if (!header.ok()) return;
        const auto& acks = sh_.acks[static_cast<std::size_t>(self_)];
        auto it = acks.find(header->report_id);
        if (it == acks.end()) return;
        const auto ack = EncodeAck(frame->request_id(), header->report_id, it->second.second);
        socket_.Send(std::span<const std::uint8_t>(ack));
        const std::int64_t sent_at = sh_.submit_ns[it->second.first].load();
        std::lock_guard lock(sh_.mu);
        if (!seen_.insert(header->report_id).second) {
          ++sh_.out->duplicate_copies;
          return;
        }
        ++sh_.out->delivered_copies;
        sh_.out->last_delivery = Clock::now();
        if (sent_at > 0) sh_.out->latency_ms.push_back(static_cast<double>(at - sent_at) / 1e6);
        sh_.live->delivered.fetch_add(1);
        return;
      }
      case schema::Body::Ping: {
        const auto pong = EncodePong(frame->request_id(), frame->body_as_Ping()->nonce());
        socket_.Send(std::span<const std::uint8_t>(pong));
        return;
      }
      default:
        return;
    }
  }

  Shared& sh_;
  int self_;
  std::vector<Prepared> reports_;
  LoadPlan plan_;
  int senders_;
  int rank_;
  net::Socket socket_;
  std::set<ReportId> seen_;
};

}  // namespace

Result<LoadOutcome> RunBrokerOnly(Cluster& cluster, const LoadPlan& plan, LiveCounters& live,
                                  const std::function<void()>& on_main_phase) {
  const int n = static_cast<int>(cluster.nodes().size());
  if (n < 2 || plan.recipients < 1 || plan.recipients > n - 1) {
    return InvalidArgument("BENCH_SETUP", "need at least recipients + 1 nodes");
  }
  auto policy = Policy::LoadFile(cluster.PolicyPath().string());
  if (!policy.ok()) return policy.status();
  Shared sh;
  LoadOutcome out;
  sh.out = &out;
  sh.live = &live;
  sh.endpoint = cluster.endpoint();
  auto broker_cert = ReadCertificateFile(cluster.CertPath("broker").string());
  if (!broker_cert.ok()) return broker_cert.status();
  sh.broker_cert = *broker_cert;
  for (const ClusterNode& node : cluster.nodes()) {
    auto keys = ReadIdentitySecret(cluster.SecretPath(node.id));
    if (!keys.ok()) return keys.status();
    auto cert = ReadCertificateFile(cluster.CertPath(node.id).string());
    if (!cert.ok()) return cert.status();
    sh.members.push_back(std::make_unique<Member>(Member{node.id, std::move(keys).value(), *cert}));
  }
  sh.acks.resize(static_cast<std::size_t>(n));

  // Seal everything before the clock starts: the drain phase's copies (node 1 -> node 0) first.
  std::uint64_t next_index = 0;
  std::vector<Prepared> drain_reports;
  if (plan.queue_depth > 0) {
    LoadPlan single = plan;
    single.portions = 1;
    auto sealed = SealFor(sh, *policy, 1, {0}, plan.queue_depth, single, next_index);
    if (!sealed.ok()) return sealed.status();
    drain_reports = std::move(sealed).value();
  }
  std::vector<std::vector<Prepared>> per_node(static_cast<std::size_t>(n));
  for (int s = 0; s < n; ++s) {
    const std::uint64_t count =
        plan.reports / static_cast<std::uint64_t>(n) +
        (static_cast<std::uint64_t>(s) < plan.reports % static_cast<std::uint64_t>(n) ? 1 : 0);
    std::vector<int> to;
    for (int r = 1; r <= plan.recipients; ++r) to.push_back((s + r) % n);
    auto sealed = SealFor(sh, *policy, s, to, count, plan, next_index);
    if (!sealed.ok()) return sealed.status();
    per_node[static_cast<std::size_t>(s)] = std::move(sealed).value();
  }
  sh.submit_ns.reset(new std::atomic<std::int64_t>[next_index]);
  for (std::uint64_t i = 0; i < next_index; ++i) sh.submit_ns[i].store(0);

  net::Context ctx;
  AuditWatch audit(cluster.BrokerDataDir());

  // Phase 1 (optional): queue copies for node 0 while it is offline, then time its drain.
  if (!drain_reports.empty()) {
    LoadOutcome drain;
    LiveCounters quiet;
    Shared& d = sh;
    d.out = &drain;
    d.live = &quiet;
    LoadPlan fill = plan;
    fill.rate = 0;
    fill.in_flight = 64;
    fill.max_seconds = plan.drain_timeout_seconds;
    NodeThread filler(d, 1, std::move(drain_reports), fill, 1, 0);
    if (auto st = filler.Connect(ctx); !st.ok()) return st;
    const std::uint64_t want = filler.planned();
    std::thread t([&] { filler.Run(Clock::now()); });
    const bool queued = WaitUntil(
        [&] {
          std::lock_guard lock(d.mu);
          return drain.accepted + drain.refused >= want;
        },
        plan.drain_timeout_seconds);
    d.stop = true;
    t.join();
    d.stop = false;
    if (!queued) return SetupError("the broker did not accept the queued copies in time");
    NodeThread recipient(d, 0, {}, fill, 1, 0);
    const auto connect_at = Clock::now();
    if (auto st = recipient.Connect(ctx); !st.ok()) return st;
    std::thread r([&] { recipient.Run(Clock::now()); });
    WaitUntil(
        [&] {
          std::lock_guard lock(d.mu);
          return drain.delivered_copies >= drain.expected_copies;
        },
        plan.drain_timeout_seconds);
    d.stop = true;
    r.join();
    d.stop = false;
    out.drain_copies = drain.delivered_copies;
    out.drain_seconds = std::chrono::duration<double>(drain.last_delivery - connect_at).count();
    if (Process* b = cluster.broker(); b != nullptr) {
      if (auto s = ReadProcSample(b->target_pid()); s.ok()) {
        out.drain_broker_peak_rss_kib = s->peak_rss_kib;
      }
    }
    // The drain's acknowledgements are not the main phase's.
    WaitUntil([&] { return audit.Poll() >= drain.delivered_copies; }, 10);
    sh.out = &out;
    sh.live = &live;
  }

  // Phase 2: every node submits and receives.
  std::vector<std::unique_ptr<NodeThread>> threads;
  for (int s = 0; s < n; ++s) {
    threads.push_back(std::make_unique<NodeThread>(
        sh, s, std::move(per_node[static_cast<std::size_t>(s)]), plan, n, s));
    if (auto st = threads.back()->Connect(ctx); !st.ok()) return st;
  }
  const std::uint64_t acks_before = audit.Poll();
  on_main_phase();
  const auto t0 = Clock::now();
  std::vector<std::thread> running;
  for (auto& t : threads) running.emplace_back([&t, t0] { t->Run(t0); });
  const double bound = plan.max_seconds + plan.drain_timeout_seconds;
  const std::uint64_t planned = plan.reports;
  WaitUntil(
      [&] {
        std::lock_guard lock(sh.mu);
        const bool sent_all = out.accepted + out.refused >= planned ||
                              Clock::now() - t0 > std::chrono::duration<double>(plan.max_seconds);
        return sent_all && out.submitted == out.accepted + out.refused &&
               out.delivered_copies >= out.expected_copies;
      },
      bound);
  // Acknowledgements are recorded by the broker after the last delivery: wait for the audit log.
  std::uint64_t expected_acks = 0;
  {
    std::lock_guard lock(sh.mu);
    expected_acks = out.delivered_copies;
  }
  WaitUntil(
      [&] {
        const std::uint64_t acked = audit.Poll() - acks_before;
        live.acknowledged.store(acked);
        return acked >= expected_acks;
      },
      plan.drain_timeout_seconds);
  out.last_ack = Clock::now();
  out.acknowledged_copies = audit.acknowledged() - acks_before;
  sh.stop = true;
  for (auto& t : running) t.join();
  return out;
}

}  // namespace tearline::bench
