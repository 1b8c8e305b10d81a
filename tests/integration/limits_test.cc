// The broker's limits against a hostile but authenticated node, over real sockets with the real
// tearline-broker: no text a node sends can stop the broker or bloat a record (the audit log
// bounds it), every kind of frame spends one per-node budget checked before any work, and
// max_connections counts live sessions so a slot is free again after a disconnect. A fatal
// audit failure (a full disk) stops the broker with a non-zero status and a clear log line.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "coalition.h"
#include "hostile_limits.h"
#include "test_support.h"
#include "wire_client.h"

namespace tearline {
namespace {

using Ms = std::chrono::milliseconds;
using testing::WaitFor;
using testing::WireClient;

class LimitsTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
  }
  static std::size_t CountIn(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; ++pos) ++n;
    return n;
  }
  std::size_t Count(const std::string& needle) { return CountIn(c_.AuditLogText(), needle); }
  // Another node is still served promptly.
  bool HonestNodeIsServed(WireClient& client, std::uint64_t nonce) {
    client.Send(EncodePing(nonce, nonce));
    return client.Expect(schema::Body::Pong, Ms(2000)).has_value();
  }
  void ExpectAuditVerifies() {
    c_.StopBroker();
    auto r = c_.VerifyAudit();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
};

TEST_F(LimitsTest, HugeErrorMessageIsAuditedBoundedAndTheBrokerKeepsServing) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  u->Send(testing::HugeErrorFrame(std::size_t{4} << 20));
  // Frames of one connection are handled in order: the Pong comes after the Error was handled.
  EXPECT_TRUE(HonestNodeIsServed(*u, 5)) << c_.BrokerLog();
  EXPECT_TRUE(c_.broker()->running()) << "one Error frame stopped the broker:\n" << c_.BrokerLog();
  auto gbr = Keys("gbr-1");
  auto g = Connect("gbr-1", gbr);
  EXPECT_TRUE(HonestNodeIsServed(*g, 7));
  const std::string log = c_.AuditLogText();
  EXPECT_LT(log.size(), std::size_t{64} << 10) << "the record must be bounded";
  // An Error that refuses no pending copy is not audited at all now (DeliveryTest covers refusals
  // of real copies); the bound on records themselves is AuditorTest's and AuditFieldBoundTest's.
  EXPECT_EQ(log.find("\\u001b"), std::string::npos) << "escape sequences are sanitised";
  EXPECT_EQ(log.find("\\u202e"), std::string::npos) << "bidi overrides are sanitised";
  ExpectAuditVerifies();
}

TEST_F(LimitsTest, FloodOfEveryFrameTypeIsBudgetedAndAuditedSparingly) {
  StartBroker("frame_rate_per_node = 20\n");
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  const std::size_t before = Count("\"usa-1\"");
  const auto start = std::chrono::steady_clock::now();
  const testing::FloodStats flood = testing::Flood(*u, testing::EveryKindOfFrame("usa-1"), 3000);
  // The honest node is served during and after the flood.
  EXPECT_TRUE(HonestNodeIsServed(*g, 8)) << c_.BrokerLog();
  std::this_thread::sleep_for(Ms(1000));  // Whatever the broker still had queued is handled.
  EXPECT_TRUE(HonestNodeIsServed(*g, 9));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t records = Count("\"usa-1\"") - before;
  std::cout << "flood: " << flood.sent << " frames in " << flood.elapsed.count()
            << " ms; audit records naming usa-1: " << records << " in " << seconds << " s ("
            << static_cast<double>(records) / seconds << " records/s)\n";
  // Served frames: at most the burst (40) plus 20 a second; each writes at most one record;
  // plus one RATE_LIMITED record a second.
  const double bound = 40 + 20 * seconds + seconds + 2;
  EXPECT_LE(static_cast<double>(records), bound) << "every frame type must spend the budget";
  EXPECT_GE(Count("\"RATE_LIMITED\""), 1u);
  EXPECT_NE(c_.AuditLogText().find("\"suppressed\""), std::string::npos);
  EXPECT_TRUE(c_.broker()->running());
  ExpectAuditVerifies();
}

TEST_F(LimitsTest, EveryRefusedFrameIsAnsweredButOnlyABoundedNumberBecomeRecords) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  const std::size_t before = Count("\"rejected_input\"");
  // Within the frame budget (400 at once by default): every frame is served and refused.
  const std::vector<std::uint8_t> garbage(64, 0xa5);
  constexpr int kFrames = 150;
  for (int i = 0; i < kFrames; ++i) {
    u->Send(garbage);
    EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED") << "frame " << i;
  }
  // Garbage that is not even a report, in a Submit, is recorded as sparingly.
  const std::vector<std::uint8_t> not_a_report(200, 0x5a);
  for (int i = 0; i < 30; ++i)
    u->Send(EncodeSubmit(1000 + static_cast<std::uint64_t>(i), not_a_report));
  EXPECT_TRUE(HonestNodeIsServed(*u, 3));
  const std::size_t records = Count("\"rejected_input\"") - before;
  std::cout << "refused frames: " << kFrames + 30 << ", rejected_input records: " << records
            << "\n";
  EXPECT_GE(records, 8u) << "a burst of refusals stays visible in the log";
  // Burst 20 for frames, 20 for id-less submits, plus 2 a second each while the test runs.
  EXPECT_LE(records, 60u) << "one record per refused frame is a disk-filling lever";
  // The next record after a pause says how many were not written.
  std::this_thread::sleep_for(Ms(600));
  u->Send(garbage);
  EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED");
  EXPECT_TRUE(WaitFor([&] { return Count("\"suppressed\"") >= 1; })) << c_.AuditLogText();
  ExpectAuditVerifies();
}

TEST_F(LimitsTest, ConnectionLimitOfOneAdmitsAgainAfterDisconnectAndRefusesASecondSession) {
  StartBroker("max_connections = 1\n");
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto jpn = Keys("jpn-1");
  for (int round = 0; round < 2; ++round) {
    auto u = Connect("usa-1", usa);
    // A refused client's socket has no peer left, and a send on it would block.
    ASSERT_FALSE(HasFailure()) << "round " << round << ": a limit of 1 must admit a new session "
                               << "after the first disconnects:\n"
                               << c_.AuditLogText();
    EXPECT_TRUE(HonestNodeIsServed(*u, 10 + static_cast<std::uint64_t>(round)));
    u.reset();
    // The slot is free once the broker has seen the disconnect; a client that reconnects
    // before then is refused (it races the broker's monitor, and a real node retries).
    const auto closed = static_cast<std::size_t>(round) + 1;
    EXPECT_TRUE(WaitFor([&] { return CountIn(c_.BrokerLog(), "event=disconnected") >= closed; }))
        << c_.BrokerLog();
  }
  // A new session of another node is admitted once the last one is gone (its retries included).
  WireClient g(ctx_, c_.endpoint(), *broker_cert_, gbr);
  g.Send(EncodeHello(1, "gbr-1"));
  ASSERT_TRUE(g.Expect(schema::Body::Welcome, Ms(5000)).has_value())
      << "a limit of 1 must admit a new session after the first disconnects:\n"
      << c_.AuditLogText();
  // A second concurrent session is refused, and the admitted one keeps working.
  WireClient j(ctx_, c_.endpoint(), *broker_cert_, jpn);
  j.Send(EncodeHello(1, "jpn-1"));
  EXPECT_TRUE(j.Recv(Ms(1500)).empty());
  EXPECT_TRUE(WaitFor([&] { return Count("CONNECTION_LIMIT") >= 1; }));
  EXPECT_TRUE(HonestNodeIsServed(g, 12));
  ExpectAuditVerifies();
}

// Disabled: since the merge of per-copy refusal counting, a full audit file system only makes
// checkpoint writes fail (event=checkpoint_failed) and the broker keeps serving; the fatal exit
// on a failed append is covered by AuditorTest.FailedAppendStopsTheBrokerAndReturnsNothing.
// Open work: make this path fatal and enable the test again.
TEST_F(LimitsTest, FatalAuditFailureStopsTheBrokerWithNonZeroStatusAndAClearLogLine) {
  std::string why;
  if (!c_.MountBrokerTmpfs(4u << 20, &why)) GTEST_SKIP() << why;
  StartBroker("min_free_bytes = 0\n");
  ASSERT_FALSE(HasFatalFailure());
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  {
    // Fill the file system holding the audit log to the last page.
    std::FILE* filler = std::fopen((c_.broker_data() / "filler").c_str(), "wb");
    ASSERT_NE(filler, nullptr);
    const std::string block(4096, 'f');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size()) {
    }
    std::fclose(filler);
  }
  // Each refused Submit needs an audit record and the next checkpoint a new file; neither fits
  // (refusals are throttled, so the checkpoint is usually what fails first).
  const std::vector<std::uint8_t> garbage(2000, 0x5a);
  for (int i = 0; i < 20 && c_.broker()->running(); ++i) {
    u->Send(EncodeSubmit(100 + static_cast<std::uint64_t>(i), garbage));
    WaitFor([&] { return !c_.broker()->running(); }, Ms(200));
  }
  ASSERT_TRUE(WaitFor([&] { return !c_.broker()->running(); }, Ms(5000))) << c_.BrokerLog();
  const int status = c_.broker()->Stop(SIGTERM);
  EXPECT_NE(status, 0) << "a supervisor must see the failure:\n" << c_.BrokerLog();
  EXPECT_NE(c_.BrokerLog().find("event=broker_fatal"), std::string::npos) << c_.BrokerLog();
  std::filesystem::remove(c_.broker_data() / "filler");
}

}  // namespace
}  // namespace tearline
