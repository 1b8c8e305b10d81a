// Recipients that refuse, stall or never read, against the real tearline-broker over tcp/CURVE:
// a copy refused for a permanent reason is given up after a bounded number of attempts (audited
// once with its report id, shown by track as failed); copies stuck at the head of a queue do not
// hold back the rest; a recipient that stays connected but reads nothing costs the broker one
// delivery window of memory, not its whole queue; a report claiming to live for decades is
// refused under the policy's expiry horizon.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "coalition.h"
#include "hostile_delivery.h"
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

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

using testing::CountAuditRecords;
using testing::HostileRecipient;
using testing::WaitFor;
using Answer = HostileRecipient::Answer;
using Ms = std::chrono::milliseconds;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class DeliveryTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }
  // A one-portion USA report for GBR of `size` content bytes.
  SealedReport Report(char fill, std::size_t size = 16, std::int64_t expires = 0) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = expires != 0 ? expires : Now() + 3600;
    in.intended_nations = {"GBR"};
    in.portions = {{"(S//REL TO USA, GBR)", std::vector<std::uint8_t>(size, std::uint8_t(fill)),
                    std::nullopt}};
    in.recipients.push_back(Recipient("gbr-1"));
    auto sealed = Seal(in, usa_->signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  std::vector<std::uint8_t> UsaSigningKey() {
    const Certificate cert = Cert("usa-1");  // Keep it alive: fields() refers into it.
    const auto& k = cert.fields().signing_key;
    return {k.begin(), k.end()};
  }
  TrackReplyInfo Track(testing::WireClient& client, const ReportId& id) {
    client.Send(EncodeTrackRequest(5, id));
    auto reply = client.Expect(schema::Body::TrackReply);
    EXPECT_TRUE(reply.has_value());
    if (!reply) return {};
    return ToTrackReplyInfo(*(*DecodeFrame(*reply))->body_as_TrackReply());
  }

  std::unique_ptr<IdentityKeys> usa_;  // The originator's keys, loaded by each test.
};

TEST_F(DeliveryTest, CopyRefusedForAPermanentReasonFailsAfterBoundedAttemptsAuditedOnce) {
  StartBroker("max_delivery_refusals = 3\nredeliver_after_ms = 100\n");
  ASSERT_FALSE(HasFatalFailure());
  usa_ = std::make_unique<IdentityKeys>(Keys("usa-1"));
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", *usa_);
  auto g = Connect("gbr-1", gbr);
  HostileRecipient hostile(*g, "gbr-1", gbr, UsaSigningKey(), "ENVELOPE_DECRYPT_FAILED");

  // `named` is refused naming its report id (a current node); `echoed` only by the Deliver's
  // request id, as a node from before the report_id field does.
  SealedReport named = Report('a'), echoed = Report('b');
  const std::string named_id = ToHex(named.report_id), echoed_id = ToHex(echoed.report_id);
  ASSERT_TRUE(Submit(*u, named.bytes, 77).accepted);
  ASSERT_TRUE(Submit(*u, echoed.bytes, 78).accepted);
  const HostileRecipient::Choose choose = [&](const std::string& id) {
    return id == named_id ? Answer::kRefuse : Answer::kRefuseByRequestId;
  };
  auto failed = [&] { return CountAuditRecords(c_.AuditLogText(), "failed"); };
  EXPECT_TRUE(hostile.ServeUntil(
      choose, [&] { return failed() == 2; }, Ms(6000)))
      << c_.BrokerLog();
  // Given up: nothing is sent again, however long the recipient stays.
  hostile.ServeUntil(
      choose, [] { return false; }, Ms(800));
  EXPECT_EQ(hostile.Deliveries(named_id), 3);
  EXPECT_EQ(hostile.Deliveries(echoed_id), 3);

  const std::string audit = c_.AuditLogText();
  for (const std::string& id : {named_id, echoed_id}) {
    EXPECT_EQ(CountAuditRecords(audit, "failed", "\"report_id\":\"" + id + "\""), 1u) << id;
  }
  EXPECT_EQ(CountAuditRecords(audit, "failed", "\"ENVELOPE_DECRYPT_FAILED\""), 2u);
  // Refusals themselves are not audited one by one.
  EXPECT_EQ(CountAuditRecords(audit, "delivery_rejected_by_recipient"), 0u);

  for (const SealedReport* r : {&named, &echoed}) {
    TrackReplyInfo track = Track(*u, r->report_id);
    ASSERT_EQ(track.recipients.size(), 1u);
    EXPECT_EQ(track.recipients[0].state, "failed");
    EXPECT_EQ(track.recipients[0].reason, "ENVELOPE_DECRYPT_FAILED");
    EXPECT_GT(track.recipients[0].record_seq, 0u);
  }
  auto verify = c_.VerifyAudit();
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(DeliveryTest, StuckCopiesAtTheHeadOfAQueueDoNotHoldBackTheRest) {
  StartBroker("rate_per_node = 100000\nframe_rate_per_node = 100000\nredeliver_after_ms = 30000\n");
  ASSERT_FALSE(HasFatalFailure());
  usa_ = std::make_unique<IdentityKeys>(Keys("usa-1"));
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", *usa_);
  // GBR is offline: 300 copies its node will keep refusing (a transient reason: they stay
  // pending), then one it accepts, all queued in that order.
  constexpr int kStuck = 300;
  std::vector<std::uint8_t> fills;
  for (int i = 0; i <= kStuck; ++i) {
    SealedReport r = Report(static_cast<char>('a' + i % 26));
    u->Send(EncodeSubmit(1000 + static_cast<std::uint64_t>(i), r.bytes));
    if (i == kStuck) fills.assign(r.report_id.begin(), r.report_id.end());
  }
  for (int i = 0; i <= kStuck; ++i) {
    ASSERT_TRUE(u->Expect(schema::Body::SubmitReply).has_value()) << i << c_.BrokerLog();
  }
  const std::string good_id = ToHex(fills);

  auto g = Connect("gbr-1", gbr);
  HostileRecipient hostile(*g, "gbr-1", gbr, UsaSigningKey(), "ORIGINATOR_UNKNOWN");
  const HostileRecipient::Choose choose = [&](const std::string& id) {
    return id == good_id ? Answer::kAck : Answer::kRefuse;
  };
  // done() runs after every frame, so it must stay cheap: the audit log is read once, after.
  EXPECT_TRUE(hostile.ServeUntil(
      choose, [&] { return hostile.Deliveries(good_id) >= 1; }, Ms(6000)))
      << "the copy behind " << kStuck << " stuck ones was never delivered";
  EXPECT_TRUE(
      WaitFor([&] { return CountAuditRecords(c_.AuditLogText(), "acknowledged", good_id) == 1; },
              Ms(5000)));
  EXPECT_EQ(hostile.Deliveries(good_id), 1);
}

TEST_F(DeliveryTest, RecipientThatNeverReadsCostsTheBrokerOneWindowOfMemory) {
  if (kAddressSanitizer) {
    // ASan keeps freed memory in a quarantine (256 MiB by default): without it the broker
    // started below (it inherits this) then grows by about 110 MiB here instead of 400.
    const char* now = std::getenv("ASAN_OPTIONS");
    const std::string options = std::string(now != nullptr ? now : "") +
                                ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
    ::setenv("ASAN_OPTIONS", options.c_str(), 1);
  }
  StartBroker(
      "rate_per_node = 100000\ndelivery_window_bytes = 8388608\nredeliver_after_ms = 1000\n");
  ASSERT_FALSE(HasFatalFailure());
  usa_ = std::make_unique<IdentityKeys>(Keys("usa-1"));
  auto u = Connect("usa-1", *usa_);
  auto slow =
      testing::ConnectSlowReader(ctx_, c_.endpoint(), *broker_cert_, "gbr-1", Keys("gbr-1"));
  const int pid = c_.broker()->pid();
  const std::uint64_t before = testing::ProcessRssBytes(pid);

  // 120 reports of 500 KB (60 MB) for the connected recipient that reads nothing.
  constexpr int kReports = 120;
  for (int i = 0; i < kReports; ++i) {
    ASSERT_TRUE(Submit(*u, Report(static_cast<char>('a' + i % 26), 500 * 1000).bytes,
                       100 + static_cast<std::uint64_t>(i))
                    .accepted);
    if (i % 10 == 0) testing::KeepAlive(*slow);
  }
  // Past two re-send intervals (re-sends must not pile up either), keeping the session alive.
  std::uint64_t peak = testing::ProcessRssBytes(pid);
  const auto until = std::chrono::steady_clock::now() + Ms(2500);
  while (std::chrono::steady_clock::now() < until) {
    testing::KeepAlive(*slow);
    peak = std::max(peak, testing::ProcessRssBytes(pid));
    WaitFor([] { return false; }, Ms(200));
  }
  ASSERT_TRUE(c_.broker()->running());
  const auto mb = [](std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
  std::printf("broker VmRSS before %.1f MiB, peak %.1f MiB, growth %.1f MiB for %d MB pushed\n",
              mb(before), mb(peak), mb(peak - before), kReports / 2);
  if (kThreadSanitizer || kAddressSanitizer) {
    // A sanitizer's allocator and shadow memory inflate the resident size of every byte the
    // broker touches, so RSS is no measure of live memory: TSan's about 5 x here; ASan's
    // allocator keeps the size-class regions it has used resident, and its optimised build
    // (-O1, the sanitizer stages' flags) reached 119 MiB here where the normal build's broker
    // grows by 26 to 30 MiB. The normal build asserts the bound; these runs still take the
    // path for memory errors and races.
    std::printf("sanitizer build: memory bound not asserted\n");
    return;
  }
  EXPECT_LT(peak - before, std::uint64_t{64} << 20)
      << "the broker buffered a non-reading recipient's copies in memory";
}

TEST_F(DeliveryTest, ReportExpiringBeyondThePolicyHorizonIsRefused) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  usa_ = std::make_unique<IdentityKeys>(Keys("usa-1"));
  auto u = Connect("usa-1", *usa_);
  constexpr std::int64_t k2100 = 4102444800;  // 2100-01-01.
  SubmitReplyInfo reply = Submit(*u, Report('z', 16, k2100).bytes);
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "REPORT_EXPIRY_TOO_FAR");
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "rejected_input", "REPORT_EXPIRY_TOO_FAR"), 1u);
  // Within the horizon (the shipped policy: 366 days) is accepted.
  EXPECT_TRUE(Submit(*u, Report('y', 16, Now() + 300 * 86400).bytes, 78).accepted);
}

}  // namespace
}  // namespace tearline
