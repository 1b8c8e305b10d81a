// The real tearline-broker process over tcp/CURVE on 127.0.0.1, driven by a protocol-level test
// client that speaks the wire format with real keys from tearline-certs.
#include <gtest/gtest.h>

#include <ctime>
#include <zmq.hpp>

#include "coalition.h"
#include "tearline/certificate.h"
#include "tearline/envelope.h"
#include "tearline/key_file.h"
#include "tearline/keys.h"
#include "tearline/wire.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A node's wire connection without the daemon, so tests can send exactly the bytes they want.
class WireClient {
 public:
  WireClient(zmq::context_t& ctx, const std::string& endpoint, const Certificate& broker,
             const IdentityKeys& keys)
      : socket_(ctx, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::curve_serverkey,
                zmq::const_buffer(broker.fields().transport_key.data(), 32));
    socket_.set(zmq::sockopt::curve_publickey,
                zmq::const_buffer(keys.transport.public_key.data(), 32));
    socket_.set(zmq::sockopt::curve_secretkey,
                zmq::const_buffer(keys.transport.secret_key.data(), 32));
    socket_.connect(endpoint);
  }
  void Send(const std::vector<std::uint8_t>& frame) { socket_.send(zmq::buffer(frame)); }
  // Next frame within `timeout`, or empty.
  std::vector<std::uint8_t> Recv(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, timeout);
    if ((items[0].revents & ZMQ_POLLIN) == 0) return {};
    zmq::message_t m;
    (void)socket_.recv(m);
    return {static_cast<const std::uint8_t*>(m.data()),
            static_cast<const std::uint8_t*>(m.data()) + m.size()};
  }
  // Next frame of `type`, skipping others (e.g. Pong), or nullopt.
  std::optional<std::vector<std::uint8_t>> Expect(
      schema::Body type, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto bytes = Recv(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (bytes.empty()) return std::nullopt;
      auto f = DecodeFrame(bytes);
      if (f.ok() && (*f)->body_type() == type) return bytes;
    }
    return std::nullopt;
  }

 private:
  zmq::socket_t socket_;
};

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "TOP SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
  }
  void Start(const std::string& extra = "") {
    c_.StartBroker(extra);
    auto broker = ReadCertificateFile((c_.certs_dir() / "broker.cert").string());
    ASSERT_TRUE(broker.ok());
    broker_cert_ = std::make_unique<Certificate>(*broker);
  }
  IdentityKeys Keys(const std::string& id) {
    auto k = ReadIdentitySecret(c_.certs_dir() / (id + ".secret"));
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return std::move(k).value();
  }
  Certificate Cert(const std::string& id) {
    return *ReadCertificateFile((c_.certs_dir() / (id + ".cert")).string());
  }
  std::unique_ptr<WireClient> Connect(const std::string& id, const IdentityKeys& keys) {
    auto client = std::make_unique<WireClient>(ctx_, c_.endpoint(), *broker_cert_, keys);
    client->Send(EncodeHello(1, id));
    EXPECT_TRUE(client->Expect(schema::Body::Welcome).has_value()) << id << ": no Welcome";
    return client;
  }
  // USA report: (S//REL TO USA, FVEY) for GBR, (S//REL TO USA, JPN) for JPN, (S//NF) for nobody.
  SealedReport UsaReport(const IdentityKeys& usa) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.intended_nations = {"GBR", "JPN", "KOR"};
    in.portions = {{"(S//REL TO USA, FVEY)", {'f', 'v', 'e', 'y'}, std::nullopt},
                   {"(S//REL TO USA, JPN)", {'j', 'p', 'n'}, std::nullopt},
                   {"(S//NF)", {'n', 'f'}, std::nullopt}};
    for (const char* id : {"gbr-1", "jpn-1"}) {
      Certificate cert = Cert(id);
      SealRecipient r;
      r.node_id = id;
      r.nation = cert.fields().nation;
      r.clearance = testing::CoalitionPolicy().FindLevel(cert.fields().clearance);
      r.enc_public_key = cert.fields().encryption_key;
      in.recipients.push_back(r);
    }
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  SubmitReplyInfo Submit(WireClient& client, const std::vector<std::uint8_t>& report) {
    client.Send(EncodeSubmit(77, report));
    auto reply = client.Expect(schema::Body::SubmitReply);
    EXPECT_TRUE(reply.has_value()) << "no SubmitReply; broker log:\n" << c_.BrokerLog();
    if (!reply) return {};
    return ToSubmitReplyInfo(*(*DecodeFrame(*reply))->body_as_SubmitReply());
  }
  const RecipientOutcomeInfo* Outcome(const SubmitReplyInfo& r, const std::string& nation) {
    for (const auto& o : r.outcomes) {
      if (o.nation == nation) return &o;
    }
    return nullptr;
  }

  Coalition c_;
  zmq::context_t ctx_;
  std::unique_ptr<Certificate> broker_cert_;
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
  EXPECT_FALSE(again.accepted);
  EXPECT_EQ(again.error_reason, "DUPLICATE_REPORT");

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

}  // namespace
}  // namespace tearline
