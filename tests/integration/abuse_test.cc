// Hostile input against the real tearline-broker over tcp/CURVE on 127.0.0.1: malformed,
// truncated and oversized frames, forged and replayed reports, impersonation and a flood of
// connections with unknown keys. For each: the sender gets the right reason code (where it gets
// an answer at all), the broker audits it, keeps running, and a legitimate exchange between two
// other nations' real node daemons (JPN -> KOR, through the tearline-node CLI) carries on.
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>

#include "coalition.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::CountAuditRecords;
using testing::WaitFor;
using Ms = std::chrono::milliseconds;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

using testing::WireClient;

// JPN keeps sending small reports to KOR through the real daemons until Finish(), which checks
// that every one of them was confirmed and arrived exactly once.
class LegitimateTraffic {
 public:
  explicit LegitimateTraffic(Coalition& c) : c_(c) {
    std::ofstream(c_.root() / "legit.txt") << "Routine JPN-KOR report.";
    thread_ = std::thread([this] {
      // At least three, so a short attack still overlaps real traffic.
      for (int i = 0; i < 3 || !stop_; ++i) {
        auto s = testing::SendReport(c_, "jpn-1", "KOR", "SECRET//REL TO JPN, KOR",
                                     (c_.root() / "legit.txt").string(), 10);
        sends_.push_back(s);
        std::this_thread::sleep_for(Ms(100));
      }
    });
  }
  ~LegitimateTraffic() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Finish() {
    stop_ = true;
    thread_.join();
    ASSERT_FALSE(sends_.empty());
    std::vector<std::string> ids;
    for (const auto& s : sends_) {
      EXPECT_TRUE(s.stored()) << "legitimate send failed during the attack: " << s.out << s.err;
      if (s.stored()) ids.push_back(s.report_id);
    }
    std::map<std::string, int> counts;
    EXPECT_TRUE(WaitFor(
        [&] {
          counts = testing::InboxCounts(c_, "kor-1");
          for (const auto& id : ids) {
            if (counts[id] != 1) return false;
          }
          return true;
        },
        Ms(15000)))
        << ids.size() << " legitimate reports confirmed, " << counts.size() << " in KOR's inbox";
  }

 private:
  Coalition& c_;
  std::atomic<bool> stop_{false};
  std::vector<testing::SendOutcome> sends_;
  std::thread thread_;
};

class AbuseTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"},
                              std::pair{"jpn-1", "JPN"}, std::pair{"kor-1", "KOR"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
  }
  void Start(const std::string& extra = "") {
    StartBroker(extra);
    ASSERT_FALSE(HasFatalFailure());
    c_.StartNode("jpn-1");
    c_.StartNode("kor-1");
  }
  // A one-portion report for GBR claiming `originator`, signed with `signing_key`.
  SealedReport Report(const std::string& originator, const std::string& nation,
                      const SecretBytes& signing_key, std::optional<ReportId> id = std::nullopt,
                      char fill = 'r') {
    SealInput in;
    in.report_id = id;
    in.originator = originator;
    in.originator_nation = nation;
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.intended_nations = {"GBR"};
    in.portions = {
        {"(S//REL TO USA, GBR)", std::vector<std::uint8_t>(16, std::uint8_t(fill)), std::nullopt}};
    in.recipients.push_back(Recipient("gbr-1"));
    auto sealed = Seal(in, signing_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  std::size_t Rejected(const std::string& reason) {
    return CountAuditRecords(c_.AuditLogText(), "rejected_input", "\"" + reason + "\"");
  }
  void ExpectBrokerServes() {
    EXPECT_TRUE(c_.broker()->running()) << c_.BrokerLog();
    auto gbr = Keys("gbr-1");
    auto g = Connect("gbr-1", gbr);
    g->Send(EncodePing(3, 99));
    EXPECT_TRUE(g->Expect(schema::Body::Pong).has_value());
  }
};

TEST_F(AbuseTest, GarbageTruncatedAndOversizedFramesGetTypedErrorsAndAreAudited) {
  Start("max_frame_bytes = 65536\n");
  LegitimateTraffic legit(c_);
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);

  u->Send(std::vector<std::uint8_t>(300, 0x5a));
  EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED");
  u->Send(std::vector<std::uint8_t>{0x01});
  EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED");
  u->Send(std::vector<std::uint8_t>{});
  EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED");

  // A real Submit frame cut at several points, including inside the FlatBuffers header.
  const auto submit = EncodeSubmit(5, Report("usa-1", "USA", usa.signing.secret_key).bytes);
  for (std::size_t cut : {std::size_t{4}, std::size_t{12}, submit.size() / 2, submit.size() - 1}) {
    u->Send(std::vector<std::uint8_t>(submit.begin(), submit.begin() + static_cast<long>(cut)));
    EXPECT_EQ(u->ExpectErrorReason(), "WIRE_MALFORMED") << "cut at " << cut;
  }
  // Over the configured frame limit.
  u->Send(std::vector<std::uint8_t>(100000, 0x01));
  EXPECT_EQ(u->ExpectErrorReason(), "WIRE_TOO_LARGE");
  // A well-formed frame whose report is garbage: a SubmitReply refusing it, with a reason.
  SubmitReplyInfo junk = Submit(*u, std::vector<std::uint8_t>(500, 0x33));
  EXPECT_FALSE(junk.accepted);
  EXPECT_FALSE(junk.error_reason.empty());
  // Random frames: every one is answered (typed error), none crashes the broker.
  std::mt19937 rng(12345);
  for (int i = 0; i < 50; ++i) {
    std::vector<std::uint8_t> frame(std::uniform_int_distribution<std::size_t>(1, 2000)(rng));
    for (auto& b : frame) b = static_cast<std::uint8_t>(rng());
    u->Send(frame);
    EXPECT_FALSE(u->ExpectErrorReason().empty()) << "random frame " << i;
  }

  // The same through the operator tool, over its own CURVE connection with usa-1's identity.
  std::ofstream(c_.root() / "garbage.bin") << std::string(64, '\x7f');
  auto probe = testing::RunProcess({testing::BinaryPath("tearline-admin").string(), "probe",
                                    "--endpoint", c_.endpoint(), "--broker-cert",
                                    (c_.certs_dir() / "broker.cert").string(), "--secret",
                                    (c_.certs_dir() / "usa-1.secret").string(), "--node", "usa-1",
                                    "--frame", (c_.root() / "garbage.bin").string()});
  EXPECT_EQ(probe.exit_code, 1) << probe.out << probe.err;
  EXPECT_NE(probe.out.find("ANSWER: ERROR WIRE_MALFORMED"), std::string::npos) << probe.out;

  // The connection itself keeps working; everything was audited against the sender.
  u->Send(EncodePing(4, 100));
  EXPECT_TRUE(u->Expect(schema::Body::Pong).has_value());
  EXPECT_GE(Rejected("WIRE_MALFORMED"), 8u) << c_.AuditLogText();
  EXPECT_GE(Rejected("WIRE_TOO_LARGE"), 1u);
  EXPECT_GE(CountAuditRecords(c_.AuditLogText(), "rejected_input", "\"usa-1\""), 8u);
  ExpectBrokerServes();
  legit.Finish();
}

TEST_F(AbuseTest, ForgedSignatureIsRejectedAndAudited) {
  Start();
  LegitimateTraffic legit(c_);
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);

  // Well-formed report naming usa-1, but signed by a key that is not usa-1's.
  auto forger = GenerateIdentityKeys();
  ASSERT_TRUE(forger.ok());
  SubmitReplyInfo forged = Submit(*u, Report("usa-1", "USA", forger->signing.secret_key).bytes);
  EXPECT_FALSE(forged.accepted);
  EXPECT_EQ(forged.error_reason, "ENVELOPE_BAD_SIGNATURE") << forged.error_message;
  // A genuine report altered after signing.
  auto tampered = Report("usa-1", "USA", usa.signing.secret_key).bytes;
  tampered[tampered.size() - 40] ^= 0x01;
  SubmitReplyInfo bad = Submit(*u, tampered);
  EXPECT_FALSE(bad.accepted);
  EXPECT_FALSE(bad.error_reason.empty());

  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(1500)).has_value())
      << "a forged report was delivered";
  EXPECT_GE(Rejected("ENVELOPE_BAD_SIGNATURE"), 1u) << c_.AuditLogText();
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "accepted", "\"usa-1\""), 0u);
  ExpectBrokerServes();
  legit.Finish();
}

TEST_F(AbuseTest, ReplayedReportIsRoutedOnceAndIdReuseIsRefused) {
  Start();
  LegitimateTraffic legit(c_);
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  SealedReport report = Report("usa-1", "USA", usa.signing.secret_key);

  SubmitReplyInfo first = Submit(*u, report.bytes);
  ASSERT_TRUE(first.accepted) << first.error_reason << ": " << first.error_message;
  ASSERT_TRUE(g->Expect(schema::Body::Deliver).has_value());
  // The same bytes again (a replay, or the sender's retry): answered as a duplicate with the
  // stored outcomes, never routed twice.
  SubmitReplyInfo again = Submit(*u, report.bytes);
  EXPECT_TRUE(again.duplicate) << again.error_reason << ": " << again.error_message;
  EXPECT_EQ(again.report_id, first.report_id);
  EXPECT_EQ(again.outcomes.size(), first.outcomes.size());
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(1500)).has_value()) << "replay delivered";
  const std::string id_hex = Hex(report.report_id);
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "accepted", id_hex), 1u);

  // The same id with other bytes (an id collision or a substitution attempt) is refused.
  SealedReport other = Report("usa-1", "USA", usa.signing.secret_key, report.report_id, 'z');
  SubmitReplyInfo conflict = Submit(*u, other.bytes);
  EXPECT_FALSE(conflict.accepted);
  EXPECT_EQ(conflict.error_reason, "REPORT_ID_CONFLICT") << conflict.error_message;
  EXPECT_GE(Rejected("REPORT_ID_CONFLICT"), 1u) << c_.AuditLogText();
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(1000)).has_value());
  ExpectBrokerServes();
  legit.Finish();
}

TEST_F(AbuseTest, ImpersonationIsRefusedAndAudited) {
  Start();
  LegitimateTraffic legit(c_);
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");

  // usa-1's key saying Hello as gbr-1.
  WireClient u(ctx_, c_.endpoint(), *broker_cert_, usa);
  u.Send(EncodeHello(1, "gbr-1"));
  EXPECT_EQ(u.ExpectErrorReason(), "AUTH_NODE_MISMATCH");
  EXPECT_GE(Rejected("AUTH_NODE_MISMATCH"), 1u) << c_.AuditLogText();
  // The same through the operator tool.
  auto probe = testing::RunProcess({testing::BinaryPath("tearline-admin").string(), "probe",
                                    "--endpoint", c_.endpoint(), "--broker-cert",
                                    (c_.certs_dir() / "broker.cert").string(), "--secret",
                                    (c_.certs_dir() / "usa-1.secret").string(), "--node", "gbr-1"});
  EXPECT_EQ(probe.exit_code, 1) << probe.out << probe.err;
  EXPECT_NE(probe.out.find("AUTH_NODE_MISMATCH"), std::string::npos) << probe.out;

  // usa-1 submitting a report that names gbr-1 as originator (signed with usa-1's own key).
  u.Send(EncodeHello(2, "usa-1"));
  ASSERT_TRUE(u.Expect(schema::Body::Welcome).has_value());
  SubmitReplyInfo claimed = Submit(u, Report("gbr-1", "GBR", usa.signing.secret_key).bytes);
  EXPECT_FALSE(claimed.accepted);
  EXPECT_EQ(claimed.error_reason, "ORIGINATOR_MISMATCH") << claimed.error_message;
  EXPECT_GE(Rejected("ORIGINATOR_MISMATCH"), 1u);

  // The impersonation did not redirect gbr-1's traffic: a report for GBR reaches the real gbr-1.
  auto g = Connect("gbr-1", gbr);
  SubmitReplyInfo real = Submit(u, Report("usa-1", "USA", usa.signing.secret_key).bytes);
  ASSERT_TRUE(real.accepted) << real.error_reason;
  EXPECT_TRUE(g->Expect(schema::Body::Deliver).has_value());
  EXPECT_FALSE(u.Expect(schema::Body::Deliver, Ms(1000)).has_value());
  ExpectBrokerServes();
  legit.Finish();
}

TEST_F(AbuseTest, UnknownKeyConnectionFloodIsRefusedAndAudited) {
  Start();
  LegitimateTraffic legit(c_);
  constexpr int kConnections = 200;
  std::vector<std::unique_ptr<WireClient>> flood;
  for (int i = 0; i < kConnections; ++i) {
    auto stranger = GenerateIdentityKeys();
    ASSERT_TRUE(stranger.ok());
    flood.push_back(std::make_unique<WireClient>(ctx_, c_.endpoint(), *broker_cert_, *stranger));
    flood.back()->Send(EncodeHello(1, "usa-1"));
  }
  // None is served: no frame comes back on any of them.
  std::this_thread::sleep_for(Ms(2000));
  int answered = 0;
  for (auto& client : flood) {
    if (!client->Recv(Ms(1)).empty()) ++answered;
  }
  EXPECT_EQ(answered, 0);
  flood.clear();

  // Refusals are audited (possibly throttled into fewer records), with a reason.
  const std::string audit = c_.AuditLogText();
  const std::size_t refused = CountAuditRecords(audit, "connection_refused");
  EXPECT_GE(refused, 1u);
  EXPECT_EQ(refused, CountAuditRecords(audit, "connection_refused", "AUTH_UNKNOWN_KEY") +
                         CountAuditRecords(audit, "connection_refused", "CONNECTION_LIMIT"))
      << audit;
  // The flood costs the broker nothing it needs for real nodes.
  ExpectBrokerServes();
  auto usa = Keys("usa-1");
  Connect("usa-1", usa);
  legit.Finish();
}

}  // namespace
}  // namespace tearline
