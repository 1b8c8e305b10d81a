// The real tearline-broker process over tcp/CURVE on 127.0.0.1, driven by a protocol-level test
// client that speaks the wire format with real keys from tearline-certs.
#include <gtest/gtest.h>

#include <ctime>
#include <thread>
#include <variant>

#include "coalition.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

using testing::WireClient;

class BrokerTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "TOP SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
  }
  void Start(const std::string& extra = "") { StartBroker(extra); }
  // USA report: (S//REL TO USA, FVEY) for GBR, (S//REL TO USA, JPN) for JPN, (S//NF) for nobody.
  // `fvey` is portion 0's text (GBR's portion); `lifetime` seconds until expiry.
  SealedReport UsaReport(const IdentityKeys& usa, std::optional<ReportId> report_id = std::nullopt,
                         std::vector<std::uint8_t> fvey = {'f', 'v', 'e', 'y'},
                         std::int64_t lifetime = 3600) {
    SealInput in;
    in.report_id = report_id;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + lifetime;
    in.intended_nations = {"GBR", "JPN", "KOR"};
    in.portions = {{"(S//REL TO USA, FVEY)", std::move(fvey), std::nullopt},
                   {"(S//REL TO USA, JPN)", {'j', 'p', 'n'}, std::nullopt},
                   {"(S//NF)", {'n', 'f'}, std::nullopt}};
    in.recipients = {Recipient("gbr-1"), Recipient("jpn-1")};
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  // Sends a TrackRequest; returns the reply or the Error's reason.
  std::variant<TrackReplyInfo, std::string> Track(WireClient& client, const ReportId& id) {
    client.Send(EncodeTrackRequest(31, id));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto bytes = client.Recv(std::chrono::seconds(10));
      if (bytes.empty()) break;
      auto f = DecodeFrame(bytes);
      if (!f.ok()) continue;
      if ((*f)->body_type() == schema::Body::TrackReply) {
        return ToTrackReplyInfo(*(*f)->body_as_TrackReply());
      }
      if ((*f)->body_type() == schema::Body::Error) {
        return (*f)->body_as_Error()->reason()->str();
      }
    }
    return std::string("NO_REPLY");
  }
  void Ack(WireClient& client, const IdentityKeys& keys, const std::string& id,
           const ReportId& report_id) {
    auto sig = SignWithDomain(keys.signing, kAckDomain, AckMessage(report_id, id));
    ASSERT_TRUE(sig.ok());
    client.Send(EncodeAck(9, report_id, *sig));
  }
  std::size_t CountInAudit(const std::string& needle) {
    const std::string log = c_.AuditLogText();
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = log.find(needle, pos)) != std::string::npos; ++pos) ++n;
    return n;
  }
  // Stops the broker and checks the whole audit directory with the auditors' tool.
  void ExpectAuditVerifies() {
    c_.StopBroker();
    auto r = testing::RunProcess({testing::BinaryPath("tearline-audit").string(), "verify",
                                  (c_.broker_data() / "audit").string()},
                                 std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n" << c_.AuditLogText();
  }
  const RecipientOutcomeInfo* Outcome(const SubmitReplyInfo& r, const std::string& nation) {
    for (const auto& o : r.outcomes) {
      if (o.nation == nation) return &o;
    }
    return nullptr;
  }
};

TEST_F(BrokerTest, UnknownKeyGetsNoServiceAndIsAudited) {
  Start();
  auto stranger = GenerateIdentityKeys();
  ASSERT_TRUE(stranger.ok());
  WireClient client(ctx_, c_.endpoint(), *broker_cert_, *stranger);
  client.Send(EncodeHello(1, "usa-1"));
  EXPECT_TRUE(client.Recv(std::chrono::milliseconds(1500)).empty());
  EXPECT_TRUE(
      WaitFor([&] { return c_.AuditLogText().find("connection_refused") != std::string::npos; }));
  EXPECT_NE(c_.AuditLogText().find("AUTH_UNKNOWN_KEY"), std::string::npos);
  // A registered node is still served.
  auto usa = Keys("usa-1");
  Connect("usa-1", usa);
}

TEST_F(BrokerTest, RevokedNodeIsRefused) {
  c_.Certs({"revoke", "--ca", c_.ca_dir().string(), "jpn-1"});
  Start();
  auto jpn = Keys("jpn-1");
  WireClient client(ctx_, c_.endpoint(), *broker_cert_, jpn);
  client.Send(EncodeHello(1, "jpn-1"));
  EXPECT_TRUE(client.Recv(std::chrono::milliseconds(1500)).empty());
}

TEST_F(BrokerTest, DirectoryListsVerifiedNodes) {
  Start();
  auto usa = Keys("usa-1");
  auto client = Connect("usa-1", usa);
  client->Send(EncodeDirectoryRequest(5));
  auto dir = client->Expect(schema::Body::Directory);
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ((*DecodeFrame(*dir))->body_as_Directory()->certificates()->size(), 3u);
}

TEST_F(BrokerTest, DeliversReleasablePortionsAndExplainsDenials) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto jpn = Keys("jpn-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  auto j = Connect("jpn-1", jpn);
  SealedReport report = UsaReport(usa);
  SubmitReplyInfo reply = Submit(*u, report.bytes);
  ASSERT_TRUE(reply.accepted) << reply.error_reason << ": " << reply.error_message;

  const auto* gbr_out = Outcome(reply, "GBR");
  ASSERT_NE(gbr_out, nullptr);
  EXPECT_EQ(gbr_out->state, schema::DeliveryState::Delivered);
  EXPECT_EQ(gbr_out->portions, std::vector<std::uint32_t>{0});
  ASSERT_EQ(gbr_out->denials.size(), 2u);
  EXPECT_EQ(gbr_out->denials[0].reason, "NOT_RELEASABLE");
  EXPECT_EQ(gbr_out->denials[1].reason, "NOFORN");

  const auto* jpn_out = Outcome(reply, "JPN");
  ASSERT_NE(jpn_out, nullptr);
  EXPECT_EQ(jpn_out->portions, std::vector<std::uint32_t>{1});

  const auto* kor_out = Outcome(reply, "KOR");
  ASSERT_NE(kor_out, nullptr);
  EXPECT_EQ(kor_out->state, schema::DeliveryState::Denied);
  EXPECT_EQ(kor_out->reason, "NO_NODE");

  // GBR receives exactly portion 0 and can read it; JPN exactly portion 1.
  for (auto [client, keys, id, nation, want] :
       {std::tuple{g.get(), &gbr, "gbr-1", "GBR", std::string("fvey")},
        std::tuple{j.get(), &jpn, "jpn-1", "JPN", std::string("jpn")}}) {
    auto deliver = client->Expect(schema::Body::Deliver);
    ASSERT_TRUE(deliver.has_value()) << id;
    const auto* bytes = (*DecodeFrame(*deliver))->body_as_Deliver()->report();
    RecipientIdentity me{id, nation, 3, Cert(id).fields().encryption_key,
                         keys->encryption.secret_key};
    auto opened = Open({bytes->data(), bytes->size()}, me, usa.signing.public_key,
                       testing::CoalitionPolicy(), Now());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_EQ(opened->portions.size(), 1u);
    std::string text(reinterpret_cast<const char*>(opened->portions[0].plaintext.data()),
                     opened->portions[0].plaintext.size());
    EXPECT_EQ(text, want);
    auto sig = SignWithDomain(keys->signing, kAckDomain, AckMessage(opened->report_id, id));
    ASSERT_TRUE(sig.ok());
    client->Send(EncodeAck(9, opened->report_id, *sig));
  }
  EXPECT_TRUE(WaitFor([&] {
    const std::string log = c_.AuditLogText();
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = log.find("\"acknowledged\"", pos)) != std::string::npos; ++pos)
      ++n;
    return n == 2;
  })) << c_.AuditLogText();
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"accepted\""), std::string::npos);
  EXPECT_NE(audit.find("NOFORN"), std::string::npos);
  EXPECT_EQ(audit.find("fvey\""), std::string::npos) << "content must never reach the audit log";
}

TEST_F(BrokerTest, DuplicateAndOriginatorMismatchAreRejected) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  SealedReport report = UsaReport(usa);

  SubmitReplyInfo forged = Submit(*g, report.bytes);  // GBR submits USA's report.
  EXPECT_FALSE(forged.accepted);
  EXPECT_EQ(forged.error_reason, "ORIGINATOR_MISMATCH");

  EXPECT_TRUE(Submit(*u, report.bytes).accepted);
  SubmitReplyInfo again = Submit(*u, report.bytes);
  EXPECT_TRUE(again.accepted);
  EXPECT_TRUE(again.duplicate);

  auto tampered = report.bytes;
  tampered[tampered.size() / 2] ^= 0x20;
  SubmitReplyInfo bad = Submit(*u, tampered);
  EXPECT_FALSE(bad.accepted);
  EXPECT_FALSE(bad.error_reason.empty());
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("ORIGINATOR_MISMATCH"), std::string::npos);
  EXPECT_NE(audit.find("DUPLICATE_REPORT"), std::string::npos);
}

TEST_F(BrokerTest, GarbageAndOversizedFramesDoNotHarmOthers) {
  Start("max_frame_bytes = 65536\n");
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  u->Send(std::vector<std::uint8_t>(300, 0x5a));
  auto err = u->Expect(schema::Body::Error);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ((*DecodeFrame(*err))->body_as_Error()->reason()->str(), "WIRE_MALFORMED");

  u->Send(std::vector<std::uint8_t>(100000, 0x01));
  auto big = u->Expect(schema::Body::Error);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ((*DecodeFrame(*big))->body_as_Error()->reason()->str(), "WIRE_TOO_LARGE");

  // Both connections keep working.
  g->Send(EncodePing(3, 99));
  EXPECT_TRUE(g->Expect(schema::Body::Pong).has_value());
  u->Send(EncodePing(4, 100));
  EXPECT_TRUE(u->Expect(schema::Body::Pong).has_value());
  EXPECT_NE(c_.AuditLogText().find("WIRE_TOO_LARGE"), std::string::npos);
}

TEST_F(BrokerTest, OfflineRecipientIsQueuedThenDelivered) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  SealedReport report = UsaReport(usa);
  SubmitReplyInfo reply = Submit(*u, report.bytes);
  ASSERT_TRUE(reply.accepted);
  EXPECT_EQ(Outcome(reply, "GBR")->state, schema::DeliveryState::Queued);
  auto g = Connect("gbr-1", gbr);
  auto deliver = g->Expect(schema::Body::Deliver);
  ASSERT_TRUE(deliver.has_value());
}

TEST_F(BrokerTest, QueueSurvivesBrokerRestart) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  {
    auto u = Connect("usa-1", usa);
    ASSERT_TRUE(Submit(*u, UsaReport(usa).bytes).accepted);
  }
  c_.StopBroker();
  EXPECT_NE(c_.AuditLogText().find("broker_stop"), std::string::npos);
  c_.StartBroker();
  auto g = Connect("gbr-1", gbr);
  EXPECT_TRUE(g->Expect(schema::Body::Deliver).has_value()) << c_.BrokerLog();
}

TEST_F(BrokerTest, IdenticalResubmissionGetsStoredOutcomeAndConflictIsRefused) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  SealedReport report = UsaReport(usa);
  SubmitReplyInfo first = Submit(*u, report.bytes);
  ASSERT_TRUE(first.accepted) << first.error_reason;
  EXPECT_FALSE(first.duplicate);
  ASSERT_TRUE(g->Expect(schema::Body::Deliver).has_value());

  SubmitReplyInfo again = Submit(*u, report.bytes);
  ASSERT_TRUE(again.accepted) << again.error_reason;
  EXPECT_TRUE(again.duplicate);
  ASSERT_EQ(again.outcomes.size(), first.outcomes.size());
  for (std::size_t i = 0; i < first.outcomes.size(); ++i) {
    EXPECT_EQ(again.outcomes[i].node_id, first.outcomes[i].node_id);
    EXPECT_EQ(again.outcomes[i].state, first.outcomes[i].state);
    EXPECT_EQ(again.outcomes[i].record_seq, first.outcomes[i].record_seq);
    EXPECT_GT(first.outcomes[i].record_seq, 0u) << first.outcomes[i].nation;
  }
  // Not routed again.
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, std::chrono::milliseconds(800)).has_value());

  // Same id, different (validly signed) content.
  SealedReport other = UsaReport(usa, report.report_id, {'o', 't', 'h', 'e', 'r'});
  SubmitReplyInfo conflict = Submit(*u, other.bytes);
  EXPECT_FALSE(conflict.accepted);
  EXPECT_EQ(conflict.error_reason, "REPORT_ID_CONFLICT");
  EXPECT_EQ(CountInAudit("\"type\":\"accepted\""), 1u);
  EXPECT_NE(c_.AuditLogText().find("DUPLICATE_REPORT"), std::string::npos);
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, FullQueueDeniesOneRecipientWhileAnotherStillReceives) {
  Start("max_queue_per_node = 1\n");
  auto usa = Keys("usa-1");
  auto jpn = Keys("jpn-1");
  auto u = Connect("usa-1", usa);
  auto j = Connect("jpn-1", jpn);
  // GBR is offline: its single queue slot fills with the first report.
  SealedReport first = UsaReport(usa);
  SubmitReplyInfo r1 = Submit(*u, first.bytes);
  ASSERT_TRUE(r1.accepted);
  EXPECT_EQ(Outcome(r1, "GBR")->state, schema::DeliveryState::Queued);
  ASSERT_TRUE(j->Expect(schema::Body::Deliver).has_value());
  Ack(*j, jpn, "jpn-1", first.report_id);
  ASSERT_TRUE(WaitFor([&] { return CountInAudit("\"acknowledged\"") == 1; }));

  SealedReport second = UsaReport(usa);
  SubmitReplyInfo r2 = Submit(*u, second.bytes);
  ASSERT_TRUE(r2.accepted);
  const auto* g_out = Outcome(r2, "GBR");
  ASSERT_NE(g_out, nullptr);
  EXPECT_EQ(g_out->state, schema::DeliveryState::Denied);
  EXPECT_EQ(g_out->reason, "QUEUE_FULL");
  EXPECT_FALSE(g_out->explanation.empty());
  EXPECT_EQ(Outcome(r2, "JPN")->state, schema::DeliveryState::Delivered);
  EXPECT_TRUE(j->Expect(schema::Body::Deliver).has_value());
  EXPECT_NE(c_.AuditLogText().find("QUEUE_FULL"), std::string::npos);
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, StoreSizeCapRefusesReportAndDeliversNothing) {
  Start("max_store_bytes = 65536\n");
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  auto g = Connect("gbr-1", gbr);
  SealedReport big = UsaReport(usa, std::nullopt, std::vector<std::uint8_t>(150000, 'x'));
  SubmitReplyInfo r = Submit(*u, big.bytes);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.error_reason, "STORAGE_FULL") << r.error_message;
  EXPECT_FALSE(r.error_message.empty());
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, std::chrono::milliseconds(800)).has_value());
  // A retry with the same report is refused the same way and never accepted twice.
  SubmitReplyInfo retry = Submit(*u, big.bytes);
  EXPECT_EQ(retry.error_reason, "STORAGE_FULL");
  EXPECT_LE(CountInAudit("\"type\":\"accepted\""), 1u);
  // The connection still works.
  u->Send(EncodePing(4, 100));
  EXPECT_TRUE(u->Expect(schema::Body::Pong).has_value());
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, LowDiskSpaceRefusesBeforeAccepting) {
  Start("min_free_bytes = 9000000000000000000\n");
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  SubmitReplyInfo r = Submit(*u, UsaReport(usa).bytes);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.error_reason, "STORAGE_FULL");
  EXPECT_EQ(CountInAudit("\"type\":\"accepted\""), 0u);
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, SubmitFloodIsRateLimitedAndAuditedSparingly) {
  Start("rate_per_node = 1\n");
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  SealedReport report = UsaReport(usa);
  constexpr int kSubmits = 8;
  for (int i = 0; i < kSubmits; ++i)
    u->Send(EncodeSubmit(100 + static_cast<std::uint64_t>(i), report.bytes));
  int limited = 0;
  int replies = 0;
  for (int i = 0; i < kSubmits; ++i) {
    auto reply = u->Expect(schema::Body::SubmitReply);
    if (!reply) break;
    ++replies;
    auto info = ToSubmitReplyInfo(*(*DecodeFrame(*reply))->body_as_SubmitReply());
    if (info.error_reason == "RATE_LIMITED") ++limited;
  }
  EXPECT_EQ(replies, kSubmits);
  EXPECT_GE(limited, 4);
  const std::size_t records = CountInAudit("RATE_LIMITED");
  EXPECT_GE(records, 1u);
  EXPECT_LT(records, static_cast<std::size_t>(limited)) << "refusals must be audited sparingly";
  EXPECT_NE(c_.AuditLogText().find("\"suppressed\""), std::string::npos);
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, ExpiredQueuedCopyIsRemovedAuditedAndTracked) {
  Start();
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  SealedReport report = UsaReport(usa, std::nullopt, {'f', 'v', 'e', 'y'}, 3);
  SubmitReplyInfo r = Submit(*u, report.bytes);
  ASSERT_TRUE(r.accepted) << r.error_reason;
  EXPECT_EQ(Outcome(r, "GBR")->state, schema::DeliveryState::Queued);
  ASSERT_TRUE(
      WaitFor([&] { return CountInAudit("\"type\":\"expired\"") == 2; }, std::chrono::seconds(15)))
      << c_.AuditLogText();
  EXPECT_NE(c_.AuditLogText().find("REPORT_EXPIRED"), std::string::npos);

  auto track = Track(*u, report.report_id);
  ASSERT_TRUE(std::holds_alternative<TrackReplyInfo>(track)) << std::get<std::string>(track);
  const auto& info = std::get<TrackReplyInfo>(track);
  bool saw_gbr = false;
  for (const auto& rs : info.recipients) {
    if (rs.node_id == "gbr-1") {
      saw_gbr = true;
      EXPECT_EQ(rs.state, "expired");
      EXPECT_EQ(rs.reason, "REPORT_EXPIRED");
      EXPECT_GT(rs.record_seq, Outcome(r, "GBR")->record_seq);
    }
    if (rs.nation == "KOR") {
      EXPECT_EQ(rs.state, "denied");
    }
  }
  EXPECT_TRUE(saw_gbr);

  // Nobody else may track it; unknown ids are named as such.
  auto g = Connect("gbr-1", gbr);
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, std::chrono::milliseconds(800)).has_value())
      << "an expired copy must not be delivered";
  auto forbidden = Track(*g, report.report_id);
  ASSERT_TRUE(std::holds_alternative<std::string>(forbidden));
  EXPECT_EQ(std::get<std::string>(forbidden), "TRACK_FORBIDDEN");
  ReportId unknown{};
  unknown[0] = 1;
  auto missing = Track(*u, unknown);
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_EQ(std::get<std::string>(missing), "TRACK_UNKNOWN_REPORT");
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, ProofIsServedOnlyForRecordsNamingTheNode) {
  Start();
  auto usa = Keys("usa-1");
  auto jpn = Keys("jpn-1");
  auto u = Connect("usa-1", usa);
  auto j = Connect("jpn-1", jpn);
  SubmitReplyInfo r = Submit(*u, UsaReport(usa).bytes);
  ASSERT_TRUE(r.accepted);
  const std::uint64_t gbr_seq = Outcome(r, "GBR")->record_seq;
  ASSERT_GT(gbr_seq, 0u);
  u->Send(EncodeProofRequest(41, gbr_seq));
  auto proof = u->Expect(schema::Body::ProofReply);
  ASSERT_TRUE(proof.has_value());
  const auto* p = (*DecodeFrame(*proof))->body_as_ProofReply();
  EXPECT_EQ(p->seq(), gbr_seq);
  ASSERT_NE(p->record(), nullptr);
  EXPECT_NE(p->record()->str().find("gbr-1"), std::string::npos);
  ASSERT_NE(p->note(), nullptr);
  EXPECT_FALSE(p->note()->str().empty());
  ASSERT_NE(p->proof(), nullptr);
  EXPECT_EQ(p->proof()->size() % 32, 0u);

  // The GBR queued record names usa-1 and gbr-1, not jpn-1.
  j->Send(EncodeProofRequest(42, gbr_seq));
  auto err = j->Expect(schema::Body::Error);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ((*DecodeFrame(*err))->body_as_Error()->reason()->str(), "PROOF_FORBIDDEN");
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, ConnectionLimitRefusesFurtherSessions) {
  Start("max_connections = 1\n");
  auto usa = Keys("usa-1");
  auto gbr = Keys("gbr-1");
  auto u = Connect("usa-1", usa);
  WireClient g(ctx_, c_.endpoint(), *broker_cert_, gbr);
  g.Send(EncodeHello(1, "gbr-1"));
  EXPECT_TRUE(g.Recv(std::chrono::milliseconds(1500)).empty());
  EXPECT_TRUE(WaitFor([&] { return CountInAudit("CONNECTION_LIMIT") >= 1; }));
  // The admitted session keeps working.
  u->Send(EncodePing(4, 100));
  EXPECT_TRUE(u->Expect(schema::Body::Pong).has_value());
  ExpectAuditVerifies();
}

TEST_F(BrokerTest, RefusedHandshakeFloodIsAuditedSparingly) {
  Start();
  std::vector<std::unique_ptr<WireClient>> strangers;
  for (int i = 0; i < 10; ++i) {
    auto keys = GenerateIdentityKeys();
    ASSERT_TRUE(keys.ok());
    strangers.push_back(std::make_unique<WireClient>(ctx_, c_.endpoint(), *broker_cert_, *keys));
    strangers.back()->Send(EncodeHello(1, "usa-1"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::size_t records = CountInAudit("\"connection_refused\"");
  EXPECT_GE(records, 1u);
  EXPECT_LE(records, 3u) << "at most one record per address per second";
  strangers.clear();
  ExpectAuditVerifies();
}

}  // namespace
}  // namespace tearline
