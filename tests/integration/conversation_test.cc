// The conversation at the real tearline-broker, over tcp/CURVE on 127.0.0.1, with a client that
// holds a real node key and breaks the rules: no frame but Hello is served before a Welcome
// (HELLO_REQUIRED; NOT_WELCOMED after a refused Hello), no copy is delivered to a connection the
// broker has not welcomed, and every refusal echoes the refused frame's request id whenever its
// header could be read.
#include <gtest/gtest.h>

#include <ctime>
#include <utility>

#include "hostile_sealer.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using testing::WaitFor;
using testing::WireClient;
using Ms = std::chrono::milliseconds;

struct Refusal {
  std::uint64_t request_id = 0;
  std::string reason;
};

// The next Error frame (skipping Pong, Deliver, ...); reason "" when none comes.
Refusal NextError(WireClient& client, Ms timeout = Ms(5000)) {
  auto bytes = client.Expect(schema::Body::Error, timeout);
  if (!bytes) return {};
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(*bytes, storage));
  if (!frame.ok()) return {};
  const auto* e = (*frame)->body_as_Error();
  return {(*frame)->request_id(), e->reason() ? e->reason()->str() : ""};
}

std::uint64_t RequestIdOf(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(bytes, storage));
  return frame.ok() ? (*frame)->request_id() : 0;
}

std::vector<std::uint8_t> Finished(flatbuffers::FlatBufferBuilder& fbb,
                                   flatbuffers::Offset<schema::Frame> frame) {
  fbb.Finish(frame, schema::FrameIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

class ConversationTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }

  std::size_t Rejected(const std::string& reason) {
    return CountAuditRecords(c_.AuditLogText(), "rejected_input", "\"" + reason + "\"");
  }

  // A report for `to`; `to_nation` empty: one that names no intended nation.
  std::vector<std::uint8_t> ReportFor(const std::string& to, const std::string& to_nation) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    testing::HostileReport r;
    r.originator = "usa-1";
    r.originator_nation = "USA";
    r.created_unix = now;
    r.expires_unix = now + 3600;
    r.labels = {"(S//REL TO USA, GBR)"};
    if (!to_nation.empty()) r.intended_nations = {to_nation};
    r.recipients = {testing::RecipientOf(Cert(to))};
    return testing::HostileSeal(r, Keys("usa-1").signing.secret_key);
  }
};

TEST_F(ConversationTest, NothingButHelloIsServedBeforeTheWelcome) {
  StartBroker("frame_rate_per_node = 1000\n");
  ASSERT_FALSE(HasFatalFailure());
  WireClient u(ctx_, c_.endpoint(), *broker_cert_, Keys("usa-1"));
  const std::vector<std::uint8_t> report_id(16, 7);
  const std::vector<std::pair<std::string, std::vector<std::uint8_t>>> before_hello = {
      {"DirectoryRequest", EncodeDirectoryRequest(101)},
      {"Submit", EncodeSubmit(102, ReportFor("gbr-1", "GBR"))},
      {"Ack", EncodeAck(103, report_id, std::vector<std::uint8_t>(64))},
      {"Ping", EncodePing(104, 1)},
      {"CheckpointRequest", EncodeCheckpointRequest(105, 0)},
      {"Cosignature", EncodeCosignature(106, 1, "— x AAAA")},
      {"ProofRequest", EncodeProofRequest(107, 0)},
      {"TrackRequest", EncodeTrackRequest(108, report_id)},
      {"ForwardSubmit", EncodeForwardSubmit(109, std::vector<std::uint8_t>(64, 1))},
      {"Error", EncodeError(110, Status(Code::kInvalidArgument, "HOSTILE", "m"))},
      {"Welcome", EncodeWelcome(111, "not-the-broker", 0, 1000)},
  };
  for (const auto& [kind, frame] : before_hello) {
    u.Send(frame);
    const Refusal r = NextError(u);
    EXPECT_EQ(r.reason, "HELLO_REQUIRED") << kind;
    EXPECT_EQ(r.request_id, RequestIdOf(frame)) << kind;
  }
  // Nothing was accepted: no report is stored for gbr-1 and none is tracked.
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "accepted"), 0u);
  ASSERT_TRUE(WaitFor([&] { return Rejected("HELLO_REQUIRED") >= 1; }, Ms(5000)))
      << c_.AuditLogText();

  // A refused Hello leaves the connection unwelcomed...
  u.Send(EncodeHello(120, "gbr-1"));
  Refusal r = NextError(u);
  EXPECT_EQ(r.reason, "AUTH_NODE_MISMATCH");
  EXPECT_EQ(r.request_id, 120u);
  u.Send(EncodePing(121, 2));
  r = NextError(u);
  EXPECT_EQ(r.reason, "NOT_WELCOMED");
  EXPECT_EQ(r.request_id, 121u);
  // ...until a correct Hello: then everything is served.
  u.Send(EncodeHello(122, "usa-1"));
  auto welcome = u.Expect(schema::Body::Welcome);
  ASSERT_TRUE(welcome.has_value());
  EXPECT_EQ(RequestIdOf(*welcome), 122u);
  u.Send(EncodePing(123, 3));
  auto pong = u.Expect(schema::Body::Pong);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(RequestIdOf(*pong), 123u);
}

TEST_F(ConversationTest, NoCopyGoesToAConnectionBeforeItsWelcome) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  // gbr-1 is connected and talking, but has not said Hello.
  WireClient g(ctx_, c_.endpoint(), *broker_cert_, Keys("gbr-1"));
  g.Send(EncodePing(1, 1));
  ASSERT_EQ(NextError(g).reason, "HELLO_REQUIRED");

  SubmitReplyInfo reply = Submit(*u, ReportFor("gbr-1", "GBR"));
  ASSERT_TRUE(reply.accepted) << reply.error_reason << " " << reply.error_message;
  ASSERT_EQ(reply.outcomes.size(), 1u);
  EXPECT_EQ(reply.outcomes[0].state, schema::DeliveryState::Queued);
  EXPECT_FALSE(g.Expect(schema::Body::Deliver, Ms(500)).has_value());
  // Its Welcome brings the queued copy.
  g.Send(EncodeHello(2, "gbr-1"));
  EXPECT_TRUE(g.Expect(schema::Body::Welcome).has_value());
  EXPECT_TRUE(g.Expect(schema::Body::Deliver).has_value());

  // A report whose routing would reach nobody (it names no nation) is refused, not accepted.
  SubmitReplyInfo nobody = Submit(*u, ReportFor("gbr-1", ""), 78);
  EXPECT_FALSE(nobody.accepted);
  EXPECT_EQ(nobody.error_reason, "ROUTING_NO_NATIONS") << nobody.error_message;
  EXPECT_TRUE(WaitFor([&] { return Rejected("ROUTING_NO_NATIONS") == 1; }, Ms(5000)))
      << c_.AuditLogText();
  EXPECT_FALSE(g.Expect(schema::Body::Deliver, Ms(300)).has_value());
}

// A node that heard nothing for a while greets again on the same connection. What was sent on
// that connection is not lost (ZeroMQ delivers in order, and a broken connection comes back as a
// new one), so a repeated Hello is answered without refilling the window; only a new connection
// starts it afresh. Refilling on every Hello made each one cost a window of copies: with large
// copies and a slow broker the Hellos outran the work and nothing was ever sent.
TEST_F(ConversationTest, RepeatedHelloOnAWelcomedConnectionDoesNotResendWhatIsInFlight) {
  StartBroker("redeliver_after_ms = 60000\n");  // No timer-driven re-send during the test.
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  auto g = Connect("gbr-1", Keys("gbr-1"));
  for (std::uint64_t i = 0; i < 3; ++i) {
    SubmitReplyInfo reply = Submit(*u, ReportFor("gbr-1", "GBR"), 90 + i);
    ASSERT_TRUE(reply.accepted) << reply.error_reason << " " << reply.error_message;
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(g->Expect(schema::Body::Deliver).has_value()) << i;

  // Unacknowledged, greeted twice more on the same connection: Welcomes, no copy again.
  g->Send(EncodeHello(5, "gbr-1"));
  g->Send(EncodeHello(6, "gbr-1"));
  ASSERT_TRUE(g->Expect(schema::Body::Welcome).has_value());
  ASSERT_TRUE(g->Expect(schema::Body::Welcome).has_value());
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(700)).has_value());

  // One node_connected record per connection, however often it greets.
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "node_connected", "\"gbr-1\""), 1u);

  // A new connection of the same node gets the whole window again.
  g.reset();
  auto again = Connect("gbr-1", Keys("gbr-1"));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(again->Expect(schema::Body::Deliver).has_value()) << i;
  EXPECT_TRUE(WaitFor(
      [&] { return CountAuditRecords(c_.AuditLogText(), "node_connected", "\"gbr-1\"") == 2; },
      Ms(5000)));
}

TEST_F(ConversationTest, EveryRefusalEchoesTheRequestId) {
  StartBroker("max_frame_bytes = 1024\nframe_rate_per_node = 20\n");
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));

  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> refused;
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto ping = schema::CreatePing(fbb, 1);
    refused.emplace_back(
        "WIRE_VERSION",
        Finished(fbb, schema::CreateFrame(fbb, 2, 201, schema::Body::Ping, ping.Union())));
  }
  {
    flatbuffers::FlatBufferBuilder fbb;
    refused.emplace_back("WIRE_MALFORMED",
                         Finished(fbb, schema::CreateFrame(fbb, kWireVersion, 202)));
  }
  refused.emplace_back("WIRE_TOO_LARGE", EncodeSubmit(203, std::vector<std::uint8_t>(2000, 1)));
  refused.emplace_back("WIRE_UNEXPECTED", EncodeWelcome(204, "not-the-broker", 0, 1000));
  refused.emplace_back("ACK_MALFORMED",
                       EncodeAck(205, std::vector<std::uint8_t>(3), std::vector<std::uint8_t>(64)));
  refused.emplace_back("COSIGNATURE_UNKNOWN_CHECKPOINT",
                       EncodeCosignature(206, 999999, "not a line"));
  refused.emplace_back("TRACK_UNKNOWN_REPORT",
                       EncodeTrackRequest(207, std::vector<std::uint8_t>(16, 9)));
  for (const auto& [reason, frame] : refused) {
    u->Send(frame);
    const Refusal r = NextError(*u);
    EXPECT_EQ(r.reason, reason);
    EXPECT_EQ(r.request_id, PeekRequestId(frame)) << reason;
    EXPECT_NE(r.request_id, 0u) << reason;
  }

  // The gate's refusal (frames over the node's budget) echoes one of the refused frames' ids.
  for (std::uint64_t id = 1000; id < 1100; ++id) u->Send(EncodePing(id, id));
  const Refusal limited = NextError(*u);
  EXPECT_EQ(limited.reason, "RATE_LIMITED");
  EXPECT_GE(limited.request_id, 1000u);
  EXPECT_LT(limited.request_id, 1100u);
}

}  // namespace
}  // namespace tearline
