// A burst from one node drains at the rate the broker announces: real tearline-broker and two
// tearline-node daemons on 127.0.0.1. 200 reports sealed by usa-1 wait in its outbox (as after
// a burst of sends while the broker was away); once usa-1 is welcomed they are paced at the
// broker's rate_per_node, so every one is accepted on its first Submit (no RATE_LIMITED
// refusal, no doubling waits), and all arrive in gbr-1's inbox exactly once within twice the
// time the configured rate allows.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tearline/base/file_util.h"
#include "tearline/envelope/envelope.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using testing::InboxCounts;
using testing::WaitFor;
using Clock = std::chrono::steady_clock;

// Small, so the test takes a few seconds. For measurements (docs/PERFORMANCE.md) both can be
// set from the environment: TEARLINE_BURST_REPORTS, TEARLINE_BURST_RATE.
int FromEnv(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}
const int kReports = FromEnv("TEARLINE_BURST_REPORTS", 200);
const int kRatePerSecond = FromEnv("TEARLINE_BURST_RATE", 50);

class BurstTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }
};

TEST_F(BurstTest, ABurstDrainsAtTheAnnouncedRateWithNoneLostOrDuplicated) {
  StartBroker("rate_per_node = " + std::to_string(kRatePerSecond) +
              "\nframe_rate_per_node = 100000\n");
  ASSERT_FALSE(HasFatalFailure());
  const IdentityKeys usa = Keys("usa-1");
  const std::filesystem::path outbox = c_.node_data("usa-1") / "outbox";
  ASSERT_TRUE(CreatePrivateDirs(outbox).ok());
  std::set<std::string> ids;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (int i = 0; i < kReports; ++i) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = now;
    in.expires_unix = now + 3600;
    in.intended_nations = {"GBR"};
    in.portions = {
        {"(S//REL TO USA, GBR)", std::vector<std::uint8_t>(64, std::uint8_t(i)), std::nullopt}};
    in.recipients.push_back(Recipient("gbr-1"));
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    const std::string id = ReportIdHex(sealed->report_id);
    ASSERT_TRUE(WriteFileAtomic(outbox / (id + ".report"), sealed->bytes, 0600).ok());
    ids.insert(id);
  }
  c_.StartNode("gbr-1");
  const auto start = Clock::now();
  c_.StartNode("usa-1");
  std::map<std::string, int> inbox;
  const auto allowed = std::chrono::milliseconds(1000LL * kReports / kRatePerSecond);
  auto last_look = Clock::now() - std::chrono::seconds(1);
  EXPECT_TRUE(WaitFor(
      [&] {
        // Each look runs the CLI: at most five a second, so the test does not load the nodes.
        if (Clock::now() - last_look < std::chrono::milliseconds(200)) return false;
        last_look = Clock::now();
        inbox = InboxCounts(c_, "gbr-1");
        return inbox.size() >= ids.size();
      },
      // Pacing is measured (printed below, and the zero RATE_LIMITED records assert that the
      // outbox never overran the broker), not asserted as time: sanitizer builds run slower.
      std::max<std::chrono::milliseconds>(2 * allowed, std::chrono::seconds(60))))
      << inbox.size() << " of " << kReports << " arrived\n"
      << c_.NodeLog("usa-1");
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::printf("burst of %d at %d/s: delivered in %lld ms (the rate allows %lld ms)\n", kReports,
              kRatePerSecond, static_cast<long long>(took.count()),
              static_cast<long long>(allowed.count()));
  for (const auto& id : ids) EXPECT_EQ(inbox[id], 1) << id;
  EXPECT_EQ(inbox.size(), ids.size());
  // Each accepted once, on its first Submit: the node kept to the rate the broker announced.
  const std::string audit = c_.AuditLogText();
  EXPECT_EQ(CountAuditRecords(audit, "accepted"), ids.size());
  EXPECT_EQ(CountAuditRecords(audit, "rejected_input", "RATE_LIMITED"), 0u);
  EXPECT_TRUE(
      WaitFor([&] { return !std::filesystem::exists(outbox) || std::filesystem::is_empty(outbox); },
              std::chrono::milliseconds(2000)))
      << "the outbox still holds reports the broker accepted";
}

}  // namespace
}  // namespace tearline
