#include "tearline/node/control_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tearline/base/encoding.h"

namespace tearline::node {
namespace {

TEST(ControlProtocolTest, Base64RoundTripsBinary) {
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<std::uint8_t>(i));
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{256}}) {
    std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(n));
    auto back = Base64Decode(Base64Encode(part));
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, part);
  }
  EXPECT_EQ(Base64Encode(std::vector<std::uint8_t>{'h', 'i'}), "aGk=");
  EXPECT_EQ(Base64Decode("aGk=!").status().reason(), "CONTROL_MALFORMED");
  EXPECT_EQ(Base64Decode("a").status().reason(), "CONTROL_MALFORMED");
}

TEST(ControlProtocolTest, SendRequestRoundTrip) {
  ControlRequest r;
  r.op = ControlOp::kSend;
  r.to = {"GBR", "JPN"};
  r.timeout_ms = 2500;
  r.portions = {{"(S//REL TO USA, GBR)", {'a', 0, 'b'}}, {"", {'x'}}};
  auto back = DecodeControlRequest(EncodeControlRequest(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->op, ControlOp::kSend);
  EXPECT_EQ(back->to, r.to);
  EXPECT_EQ(back->timeout_ms, 2500u);
  ASSERT_EQ(back->portions.size(), 2u);
  EXPECT_EQ(back->portions[0].marking, "(S//REL TO USA, GBR)");
  EXPECT_EQ(back->portions[0].content, (std::vector<std::uint8_t>{'a', 0, 'b'}));
  // An empty marking travels as is: the daemon refuses it itself, naming the portion.
  EXPECT_EQ(back->portions[1].marking, "");
}

TEST(ControlProtocolTest, QueryRequestsRoundTrip) {
  for (ControlOp op : {ControlOp::kInbox, ControlOp::kStatus}) {
    ControlRequest r;
    r.op = op;
    auto back = DecodeControlRequest(EncodeControlRequest(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->op, op);
  }
  ControlRequest r;
  r.op = ControlOp::kRead;
  r.id = "abcd1234";
  auto back = DecodeControlRequest(EncodeControlRequest(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, "abcd1234");
}

TEST(ControlProtocolTest, MalformedRequestsAreRejectedWithoutThrowing) {
  const char* bad[] = {
      "",
      "not json",
      "[]",
      R"j({"op":"status"})j",
      R"j({"v":2,"op":"status"})j",
      R"j({"v":1,"op":"launch"})j",
      R"j({"v":1,"op":"read"})j",
      R"j({"v":1,"op":"read","id":""})j",
      R"j({"v":1,"op":"send","to":[],"timeout_ms":1000,"portions":[{"marking":"(U)","content":"eA=="}]})j",
      R"j({"v":1,"op":"send","to":["GBR"],"timeout_ms":0,"portions":[{"marking":"(U)","content":"eA=="}]})j",
      R"j({"v":1,"op":"send","to":["GBR"],"timeout_ms":1000,"portions":[]})j",
      R"j({"v":1,"op":"send","to":["GBR"],"timeout_ms":1000,"portions":[{"marking":"(U)"}]})j",
      R"j({"v":1,"op":"send","to":["GBR"],"timeout_ms":1000,"portions":[{"marking":"(U)","content":"%%"}]})j",
      R"j({"v":1,"op":"send","to":[7],"timeout_ms":1000,"portions":[{"marking":"(U)","content":"eA=="}]})j",
      R"j({"v":1,"op":"send","to":["GBR"],"timeout_ms":-5,"portions":[{"marking":"(U)","content":"eA=="}]})j",
  };
  for (const char* text : bad) {
    auto r = DecodeControlRequest(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << text;
  }
  std::string huge(kMaxControlMessageBytes + 1, ' ');
  EXPECT_EQ(DecodeControlRequest(huge).status().reason(), "CONTROL_TOO_LARGE");
}

TEST(ControlProtocolTest, ErrorResponseCarriesCodeReasonAndMessage) {
  const Status s(Code::kUnavailable, "BROKER_UNAVAILABLE", "the report was NOT sent");
  auto r = DecodeSendResponse(EncodeErrorResponse(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), s);
  EXPECT_EQ(DecodeStatusResponse(EncodeErrorResponse(s)).status(), s);
  EXPECT_EQ(DecodeSendResponse("{}").status().reason(), "CONTROL_MALFORMED");
  EXPECT_EQ(DecodeSendResponse(R"j({"ok":false})j").status().reason(), "CONTROL_MALFORMED");
}

TEST(ControlProtocolTest, EncodersDoNotThrowOnInvalidUtf8) {
  const Status s = InvalidArgument("SEND_PORTION_UNMARKED", "portion 1: marking '\xff\xfe' is bad");
  std::string text;
  ASSERT_NO_THROW(text = EncodeErrorResponse(s));
  auto back = DecodeSendResponse(text);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().reason(), "SEND_PORTION_UNMARKED");
}

TEST(ControlProtocolTest, SendResponseRoundTripKeepsOutcomes) {
  SendResult r;
  r.report_id_hex = std::string(32, 'a');
  r.banner = "SECRET//NOFORN";
  RecipientOutcomeInfo jpn;
  jpn.nation = "JPN";
  jpn.node_id = "jpn-1";
  jpn.state = schema::DeliveryState::Delivered;
  jpn.portions = {1};
  jpn.denials = {{0, "(S//REL TO USA, GBR)", "NOT_RELEASABLE", "JPN is not in REL TO"},
                 {2, "(S//NF)", "NOFORN", "NOFORN"}};
  RecipientOutcomeInfo ind;
  ind.nation = "IND";
  ind.state = schema::DeliveryState::Denied;
  ind.reason = "NO_NODE";
  ind.explanation = "IND has no node";
  r.outcomes = {jpn, ind};

  auto back = DecodeSendResponse(EncodeSendResponse(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->report_id_hex, r.report_id_hex);
  EXPECT_EQ(back->banner, r.banner);
  ASSERT_EQ(back->outcomes.size(), 2u);
  const auto& o = back->outcomes[0];
  EXPECT_EQ(o.state, schema::DeliveryState::Delivered);
  EXPECT_EQ(o.portions, std::vector<std::uint32_t>{1});
  ASSERT_EQ(o.denials.size(), 2u);
  EXPECT_EQ(o.denials[1].index, 2u);
  EXPECT_EQ(o.denials[1].reason, "NOFORN");
  EXPECT_EQ(back->outcomes[1].node_id, "");
  EXPECT_EQ(back->outcomes[1].reason, "NO_NODE");

  // Analyst numbering starts at 1.
  auto j = OutcomeToJson(jpn, 1);
  EXPECT_EQ(j["state"], "DELIVERED");
  EXPECT_EQ(j["portions"][0], 2);
  EXPECT_EQ(j["withheld"][0]["portion"], 1);
}

TEST(ControlProtocolTest, InboxReadAndStatusResponsesRoundTrip) {
  InboxEntry e;
  e.report_id_hex = std::string(32, 'b');
  e.banner = "SECRET//REL TO USA, GBR";
  e.originator = "usa-1";
  e.originator_nation = "USA";
  e.portion_count = 2;
  e.portions = {{1, "(S//REL TO USA, GBR)"}};
  auto list = DecodeInboxResponse(EncodeInboxResponse({e, e}));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].banner, e.banner);

  ReadResult rr;
  rr.entry = e;
  rr.portions = {{1, "(S//REL TO USA, GBR)", {'t', 'e', 'x', 't', 0}}};
  auto read = DecodeReadResponse(EncodeReadResponse(rr));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->entry.report_id_hex, e.report_id_hex);
  ASSERT_EQ(read->portions.size(), 1u);
  EXPECT_EQ(read->portions[0].content, rr.portions[0].content);

  StatusResult s;
  s.node_id = "usa-1";
  s.nation = "USA";
  s.clearance = "SECRET";
  s.broker_endpoint = "tcp://127.0.0.1:1";
  s.connected = true;
  s.transport = "connected";
  s.last_broker_frame_ms_ago = 12;
  s.reconnects = 3;
  s.directory_nodes = 4;
  s.outbox_reports = 2;
  s.uptime_s = 9;
  auto st = DecodeStatusResponse(EncodeStatusResponse(s));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->connected);
  EXPECT_EQ(st->reconnects, 3u);
  EXPECT_EQ(st->last_broker_frame_ms_ago, 12);
  EXPECT_EQ(st->node_id, "usa-1");
  EXPECT_EQ(st->transport, "connected");
  EXPECT_EQ(st->outbox_reports, 2u);
}

TEST(ControlProtocolTest, TrackAndProveRequestsRoundTrip) {
  ControlRequest t;
  t.op = ControlOp::kTrack;
  t.id = "abcd";
  auto back = DecodeControlRequest(EncodeControlRequest(t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->op, ControlOp::kTrack);
  EXPECT_EQ(back->id, "abcd");
  EXPECT_FALSE(back->seq.has_value());

  ControlRequest p;
  p.op = ControlOp::kProve;
  p.id = std::string(32, 'c');
  back = DecodeControlRequest(EncodeControlRequest(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->op, ControlOp::kProve);
  EXPECT_FALSE(back->seq.has_value());
  p.seq = 0;  // Record 0 is a valid record number.
  back = DecodeControlRequest(EncodeControlRequest(p));
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->seq.has_value());
  EXPECT_EQ(*back->seq, 0u);

  for (const char* bad :
       {R"j({"v":1,"op":"track"})j", R"j({"v":1,"op":"track","id":""})j",
        R"j({"v":1,"op":"prove","id":7})j", R"j({"v":1,"op":"prove","id":"abcd","seq":-1})j",
        R"j({"v":1,"op":"prove","id":"abcd","seq":"17"})j"}) {
    auto r = DecodeControlRequest(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().reason(), "CONTROL_MALFORMED") << bad;
  }
}

TEST(ControlProtocolTest, SendResponseCarriesPendingDuplicateAndRecordSeq) {
  SendResult r;
  r.report_id_hex = std::string(32, 'd');
  r.banner = "SECRET";
  r.pending = true;
  r.detail = "kept in the outbox";
  auto back = DecodeSendResponse(EncodeSendResponse(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->pending);
  EXPECT_FALSE(back->duplicate);
  EXPECT_EQ(back->detail, "kept in the outbox");
  EXPECT_TRUE(back->outcomes.empty());

  r.pending = false;
  r.duplicate = true;
  RecipientOutcomeInfo o;
  o.nation = "GBR";
  o.node_id = "gbr-1";
  o.state = schema::DeliveryState::Queued;
  o.portions = {0};
  o.record_seq = 17;
  r.outcomes = {o};
  back = DecodeSendResponse(EncodeSendResponse(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->duplicate);
  ASSERT_EQ(back->outcomes.size(), 1u);
  EXPECT_EQ(back->outcomes[0].record_seq, 17u);

  // 1-based JSON round-trips too, and a missing record_seq means 0.
  auto j = OutcomeToJson(o, 1);
  auto again = OutcomeFromJson(j, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->portions, std::vector<std::uint32_t>{0});
  j.erase("record_seq");
  again = OutcomeFromJson(j, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->record_seq, 0u);
  j["portions"] = {0};  // Below the base.
  EXPECT_EQ(OutcomeFromJson(j, 1).status().reason(), "CONTROL_MALFORMED");
}

TEST(ControlProtocolTest, TrackAndProveResponsesRoundTrip) {
  TrackResult t;
  t.report_id_hex = std::string(32, 'e');
  t.recipients = {{"gbr-1", "GBR", "acknowledged", "", 1700000000, 17},
                  {"kor-1", "KOR", "denied", "NOT_RELEASABLE", 1700000001, 12}};
  auto tb = DecodeTrackResponse(EncodeTrackResponse(t));
  ASSERT_TRUE(tb.ok()) << tb.status().ToString();
  ASSERT_EQ(tb->recipients.size(), 2u);
  EXPECT_EQ(tb->recipients[1].reason, "NOT_RELEASABLE");
  EXPECT_EQ(tb->recipients[0].record_seq, 17u);
  EXPECT_EQ(tb->recipients[0].updated_unix, 1700000000);

  ProveResult p;
  p.report_id_hex = t.report_id_hex;
  p.note = "";
  ProofItem ok;
  ok.seq = 17;
  ok.description = "delivered to gbr-1";
  ok.verified = true;
  ok.checkpoint_size = 24;
  ok.signer = "broker";
  ProofItem bad;
  bad.seq = 18;
  bad.description = "record 18";
  bad.reason = "PROOF_NOT_INCLUDED";
  bad.message = "root mismatch";
  p.items = {ok, bad};
  auto pb = DecodeProveResponse(EncodeProveResponse(p));
  ASSERT_TRUE(pb.ok()) << pb.status().ToString();
  ASSERT_EQ(pb->items.size(), 2u);
  EXPECT_TRUE(pb->items[0].verified);
  EXPECT_EQ(pb->items[0].checkpoint_size, 24u);
  EXPECT_EQ(pb->items[0].signer, "broker");
  EXPECT_FALSE(pb->items[1].verified);
  EXPECT_EQ(pb->items[1].reason, "PROOF_NOT_INCLUDED");

  const Status s(Code::kNotFound, "TRACK_UNKNOWN_REPORT", "never accepted");
  EXPECT_EQ(DecodeTrackResponse(EncodeErrorResponse(s)).status(), s);
  EXPECT_EQ(DecodeProveResponse(EncodeErrorResponse(s)).status(), s);
  EXPECT_EQ(DecodeProveResponse(R"j({"ok":true,"result":{"report_id":"x"}})j").status().reason(),
            "CONTROL_MALFORMED");
}

}  // namespace
}  // namespace tearline::node
