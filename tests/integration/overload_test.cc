// Overload against the real tearline-broker over tcp/CURVE: four nodes that each submit as fast as
// the socket takes frames (far more than the broker can accept, answers BROKER_BUSY resent at
// once) while they receive and acknowledge each other's copies over the same connection. The
// broker must slow the senders down without ever dropping a connection (no transport
// disconnection, no second Hello), send every copy once (no redelivery because an
// acknowledgement waited behind submissions), and deliver every accepted report afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coalition.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::size_t CountLines(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// One node on a raw wire connection: keeps up to `window` submissions outstanding, resends the
// ones the broker answers BROKER_BUSY or RATE_LIMITED at once (ignoring the hint, as a flooding
// node would), acknowledges every Deliver and pings like a daemon. Counts Deliver frames per
// report id. Runs on its own thread; the counters are read under `mu`.
class FastNode {
 public:
  FastNode(std::string id, IdentityKeys keys, std::unique_ptr<testing::WireClient> client,
           std::vector<SealedReport> reports,
           std::map<std::string, std::vector<std::uint8_t>> keys_by_node)
      : id_(std::move(id)),
        keys_(std::move(keys)),
        client_(std::move(client)),
        reports_(std::move(reports)),
        originator_keys_(std::move(keys_by_node)) {
    for (std::size_t i = 0; i < reports_.size(); ++i) to_send_.push_back(i);
  }

  // Serves until `stop`; submits only while `submitting`.
  void Run(const std::atomic<bool>& submitting, const std::atomic<bool>& stop) {
    constexpr std::size_t kWindow = 1200;  // More than ZeroMQ's per-connection queue of 1000.
    auto last_ping = Clock::now();
    while (!stop.load()) {
      while (submitting.load() && in_flight_.size() < kWindow && !to_send_.empty()) {
        const std::size_t index = to_send_.front();
        if (!client_->TrySend(EncodeSubmit(next_request_, reports_[index].bytes))) break;
        in_flight_[next_request_++] = index;
        to_send_.pop_front();
        std::lock_guard lock(mu);
        ++offered;
      }
      if (Clock::now() - last_ping > Ms(100)) {
        (void)client_->TrySend(EncodePing(1, 1));
        last_ping = Clock::now();
      }
      auto bytes = client_->Recv(Ms(5));
      if (!bytes.empty()) Handle(bytes);
    }
  }

  std::mutex mu;
  std::size_t offered = 0;
  std::set<std::string> accepted;         // Report ids the broker accepted from this node.
  std::map<std::string, int> deliveries;  // Deliver frames received, per report id.
  std::map<std::string, int> other_refusals;

 private:
  void Handle(const std::vector<std::uint8_t>& bytes) {
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    if (!f.ok()) return;
    if ((*f)->body_type() == schema::Body::Deliver) {
      const auto* report = (*f)->body_as_Deliver()->report();
      ASSERT_NE(report, nullptr);
      const std::span<const std::uint8_t> copy(report->data(), report->size());
      auto originator = PeekOriginator(copy);
      ASSERT_TRUE(originator.ok());
      auto view = InspectReport(copy, originator_keys_.at(*originator));
      ASSERT_TRUE(view.ok()) << view.status().ToString();
      auto sig = SignWithDomain(keys_.signing, kAckDomain, AckMessage(view->report_id, id_));
      ASSERT_TRUE(sig.ok());
      {
        std::lock_guard lock(mu);
        ++deliveries[ToHex(view->report_id)];
      }
      client_->Send(EncodeAck((*f)->request_id(), view->report_id, *sig));
      return;
    }
    if ((*f)->body_type() != schema::Body::SubmitReply) return;
    auto it = in_flight_.find((*f)->request_id());
    if (it == in_flight_.end()) return;
    const std::size_t index = it->second;
    in_flight_.erase(it);
    const SubmitReplyInfo info = ToSubmitReplyInfo(*(*f)->body_as_SubmitReply());
    std::lock_guard lock(mu);
    if (info.accepted) {
      accepted.insert(ToHex(reports_[index].report_id));
    } else if (info.error_reason == "BROKER_BUSY" || info.error_reason == "RATE_LIMITED") {
      to_send_.push_back(index);
    } else {
      ++other_refusals[info.error_reason];
    }
  }

  const std::string id_;
  const IdentityKeys keys_;
  std::unique_ptr<testing::WireClient> client_;
  const std::vector<SealedReport> reports_;
  const std::map<std::string, std::vector<std::uint8_t>> originator_keys_;
  std::deque<std::size_t> to_send_;
  std::map<std::uint64_t, std::size_t> in_flight_;
  std::uint64_t next_request_ = 100;
};

class OverloadTest : public testing::BrokerWireTest {
 protected:
  const std::vector<std::string> kNodes = {"usa-1", "usa-2", "gbr-1", "gbr-2"};

  void SetUp() override {
    for (const std::string& id : kNodes) {
      c_.IssueNode(id, id.substr(0, 3) == "usa" ? "USA" : "GBR", "SECRET");
    }
  }

  // `count` one-portion reports from `from` for both nodes of the other nation.
  std::vector<SealedReport> Reports(const std::string& from, const IdentityKeys& keys, int count) {
    const bool usa = from.substr(0, 3) == "usa";
    const std::string to = usa ? "gbr" : "usa";
    // Read once: each recipient's certificate file, not once per report.
    const std::vector<SealRecipient> recipients = {Recipient(to + "-1"), Recipient(to + "-2")};
    std::vector<SealedReport> out;
    for (int i = 0; i < count; ++i) {
      SealInput in;
      in.originator = from;
      in.originator_nation = usa ? "USA" : "GBR";
      in.created_unix = Now();
      in.expires_unix = Now() + 3600;
      in.intended_nations = {usa ? "GBR" : "USA"};
      in.portions = {
          {"(S//REL TO USA, GBR)", std::vector<std::uint8_t>(1024, std::uint8_t(i)), std::nullopt}};
      in.recipients = recipients;
      auto sealed = Seal(in, keys.signing.secret_key, testing::CoalitionPolicy());
      EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
      out.push_back(std::move(sealed).value());
    }
    return out;
  }
};

TEST_F(OverloadTest, FloodingNodesAreSlowedDownWithoutDisconnectingOrDuplicatingAnyCopy) {
  // The coalition's short transport heartbeat (timeout 3 x 250 ms) and redelivery after 2 s
  // show a connection left unread or an acknowledgement left waiting within the test; no
  // per-node rate limit, so the broker's own capacity is what the nodes meet.
  StartBroker(
      "rate_per_node = 100000\nframe_rate_per_node = 1000000\nredeliver_after_ms = 2000\n"
      "submit_backlog_per_node = 32\n");
  ASSERT_FALSE(HasFatalFailure());
  std::map<std::string, std::vector<std::uint8_t>> signing_keys;
  for (const std::string& id : kNodes) {
    const Certificate cert = Cert(id);
    signing_keys[id].assign(cert.fields().signing_key.begin(), cert.fields().signing_key.end());
  }
  std::vector<std::unique_ptr<FastNode>> nodes;
  for (const std::string& id : kNodes) {
    IdentityKeys keys = Keys(id);
    auto reports = Reports(id, keys, 1100);
    auto client = Connect(id, keys);
    ASSERT_FALSE(HasFailure());
    nodes.push_back(std::make_unique<FastNode>(id, std::move(keys), std::move(client),
                                               std::move(reports), signing_keys));
  }

  std::atomic<bool> submitting{true}, stop{false};
  std::vector<std::thread> threads;
  for (auto& n : nodes) threads.emplace_back([&, node = n.get()] { node->Run(submitting, stop); });
  const auto start = Clock::now();
  std::this_thread::sleep_for(Ms(2500));  // The overload phase.
  submitting.store(false);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Every accepted report reaches both nodes of the other nation (poll, at most 4 s).
  auto missing = [&] {
    std::size_t n = 0;
    for (std::size_t s = 0; s < nodes.size(); ++s) {
      std::set<std::string> accepted;
      {
        std::lock_guard lock(nodes[s]->mu);
        accepted = nodes[s]->accepted;
      }
      const std::size_t first = s < 2 ? 2 : 0;  // usa-* send to gbr-*, and back.
      for (std::size_t r = first; r < first + 2; ++r) {
        std::lock_guard lock(nodes[r]->mu);
        for (const std::string& id : accepted) n += nodes[r]->deliveries.count(id) == 0 ? 1u : 0u;
      }
    }
    return n;
  };
  // Ends as soon as every copy arrived; the bound only matters under sanitizers.
  EXPECT_TRUE(testing::WaitFor([&] { return missing() == 0; }, Ms(30000)))
      << missing() << " accepted copies never delivered";
  std::this_thread::sleep_for(Ms(300));  // Late duplicates, if any, arrive now.
  const std::string log = c_.BrokerLog();
  const std::string audit = c_.AuditLogText();
  stop.store(true);
  for (auto& t : threads) t.join();

  std::size_t offered = 0, accepted = 0, copies = 0, duplicates = 0;
  for (auto& n : nodes) {
    offered += n->offered;
    accepted += n->accepted.size();
    for (const auto& [id, count] : n->deliveries) {
      copies += static_cast<std::size_t>(count);
      duplicates += static_cast<std::size_t>(count - 1);
    }
    EXPECT_TRUE(n->other_refusals.empty()) << n->other_refusals.begin()->first;
  }
  const std::size_t disconnects = CountLines(log, "event=disconnected");
  std::printf(
      "overload: %.1f s, %zu submissions offered (%.0f/s), %zu accepted (%.0f/s, %.1fx "
      "overload), %zu copies received, %zu duplicates, %zu disconnections, %zu hellos\n",
      seconds, offered, static_cast<double>(offered) / seconds, accepted,
      static_cast<double>(accepted) / seconds, accepted ? double(offered) / double(accepted) : 0.0,
      copies, duplicates, disconnects, CountAuditRecords(audit, "node_connected"));
  EXPECT_GT(accepted, 0u);
  // The premise: the nodes offered at least four times what the broker accepted.
  EXPECT_GE(offered, 4 * accepted);
  EXPECT_EQ(disconnects, 0u);
  EXPECT_EQ(CountAuditRecords(audit, "node_connected"), kNodes.size());
  EXPECT_EQ(duplicates, 0u);
}

}  // namespace
}  // namespace tearline
