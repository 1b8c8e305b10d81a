#include "tearline/wire/wire.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <random>

namespace tearline {
namespace {

TEST(WireTest, RoundTripsEveryFrameKind) {
  const auto hello_bytes = EncodeHello(7, "usa-1");
  auto hello = DecodeFrame(hello_bytes);
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ((*hello)->request_id(), 7u);
  ASSERT_EQ((*hello)->body_type(), schema::Body::Hello);
  EXPECT_EQ((*hello)->body_as_Hello()->node_id()->str(), "usa-1");

  const auto welcome_bytes = EncodeWelcome(8, "broker", 1700000000, 1000);
  auto welcome = DecodeFrame(welcome_bytes);
  ASSERT_TRUE(welcome.ok());
  EXPECT_EQ((*welcome)->body_as_Welcome()->heartbeat_interval_ms(), 1000u);

  std::vector<std::uint8_t> report = {1, 2, 3, 4, 5};
  const auto submit_bytes = EncodeSubmit(9, report);
  auto submit = DecodeFrame(submit_bytes);
  ASSERT_TRUE(submit.ok());
  const auto* r = (*submit)->body_as_Submit()->report();
  EXPECT_EQ(std::vector<std::uint8_t>(r->begin(), r->end()), report);

  const auto dir_bytes = EncodeDirectory(10, {{1, 2}, {3}}, std::vector<std::uint8_t>{9});
  auto dir = DecodeFrame(dir_bytes);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ((*dir)->body_as_Directory()->certificates()->size(), 2u);

  const auto ping_bytes = EncodePing(11, 42);
  auto ping = DecodeFrame(ping_bytes);
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ((*ping)->body_as_Ping()->nonce(), 42u);

  const auto err_bytes = EncodeError(12, InvalidArgument("WIRE_MALFORMED", "bad"));
  auto err = DecodeFrame(err_bytes);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ((*err)->body_as_Error()->reason()->str(), "WIRE_MALFORMED");
}

TEST(WireTest, SubmitReplyRoundTrip) {
  SubmitReplyInfo info;
  info.report_id = std::vector<std::uint8_t>(16, 0xab);
  info.accepted = true;
  RecipientOutcomeInfo o;
  o.nation = "JPN";
  o.node_id = "jpn-1";
  o.state = schema::DeliveryState::Delivered;
  o.portions = {1};
  o.denials.push_back({0, "(S//REL TO USA, FVEY)", "NOT_RELEASABLE", "JPN is not covered"});
  info.outcomes.push_back(o);
  const auto reply_bytes = EncodeSubmitReply(3, info);
  auto frame = DecodeFrame(reply_bytes);
  ASSERT_TRUE(frame.ok());
  SubmitReplyInfo back = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
  EXPECT_EQ(back.report_id, info.report_id);
  ASSERT_EQ(back.outcomes.size(), 1u);
  EXPECT_EQ(back.outcomes[0].node_id, "jpn-1");
  EXPECT_EQ(back.outcomes[0].portions, std::vector<std::uint32_t>{1});
  ASSERT_EQ(back.outcomes[0].denials.size(), 1u);
  EXPECT_EQ(back.outcomes[0].denials[0].reason, "NOT_RELEASABLE");
  EXPECT_EQ(DeliveryStateName(back.outcomes[0].state), "DELIVERED");
  EXPECT_EQ(back.outcomes[0].record_seq, 0u);
  EXPECT_FALSE(back.duplicate);

  info.duplicate = true;
  info.outcomes[0].record_seq = 41;
  const auto dup_bytes = EncodeSubmitReply(4, info);
  auto dup = DecodeFrame(dup_bytes);
  ASSERT_TRUE(dup.ok());
  SubmitReplyInfo dup_back = ToSubmitReplyInfo(*(*dup)->body_as_SubmitReply());
  EXPECT_TRUE(dup_back.duplicate);
  EXPECT_EQ(dup_back.outcomes[0].record_seq, 41u);
}

TEST(WireTest, RefusalForNowCarriesARetryAfterHint) {
  SubmitReplyInfo busy;
  busy.error_reason = "BROKER_BUSY";
  busy.error_message = "the broker has 40 submissions waiting";
  busy.retry_after_ms = 250;
  const auto bytes = EncodeSubmitReply(9, busy);
  auto frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok());
  SubmitReplyInfo back = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
  EXPECT_FALSE(back.accepted);
  EXPECT_EQ(back.error_reason, "BROKER_BUSY");
  EXPECT_EQ(back.retry_after_ms, 250u);
  // A refusal without a hint (every Error before the field existed) reads as 0.
  busy.retry_after_ms = 0;
  const auto plain = EncodeSubmitReply(10, busy);
  EXPECT_EQ(ToSubmitReplyInfo(*(*DecodeFrame(plain))->body_as_SubmitReply()).retry_after_ms, 0u);
}

TEST(WireTest, ProofFramesRoundTrip) {
  const auto req_bytes = EncodeProofRequest(5, 17);
  auto req = DecodeFrame(req_bytes);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ASSERT_EQ((*req)->body_type(), schema::Body::ProofRequest);
  EXPECT_EQ((*req)->body_as_ProofRequest()->seq(), 17u);

  const std::vector<std::uint8_t> proof(64, 0x5a);
  const auto reply_bytes =
      EncodeProofReply(5, "tearline/audit/b\n24\nroot\n\nsig\n", 17, R"({"seq":17})", proof);
  auto reply = DecodeFrame(reply_bytes);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  const auto* p = (*reply)->body_as_ProofReply();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->seq(), 17u);
  EXPECT_EQ(p->record()->str(), R"({"seq":17})");
  EXPECT_EQ(std::vector<std::uint8_t>(p->proof()->begin(), p->proof()->end()), proof);
}

TEST(WireTest, DeliveryRefusalNamesTheReportAndPlainErrorsDoNot) {
  const std::vector<std::uint8_t> id(16, 0xab);
  const auto refusal = EncodeDeliveryRefusal(
      12, Status(Code::kInvalidArgument, "ENVELOPE_DECRYPT_FAILED", "no"), id);
  std::vector<std::uint8_t> storage;
  auto f = DecodeFrame(AlignedForDecode(refusal, storage));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->request_id(), 12u);
  const auto* e = (*f)->body_as_Error();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->reason()->str(), "ENVELOPE_DECRYPT_FAILED");
  ASSERT_NE(e->report_id(), nullptr);
  EXPECT_EQ(std::vector<std::uint8_t>(e->report_id()->begin(), e->report_id()->end()), id);
  const auto plain = EncodeError(13, Status(Code::kInvalidArgument, "WIRE_MALFORMED", "x"));
  std::vector<std::uint8_t> storage2;
  auto g = DecodeFrame(AlignedForDecode(plain, storage2));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->body_as_Error()->report_id(), nullptr);
}

TEST(WireTest, TrackFramesRoundTrip) {
  const std::vector<std::uint8_t> id(16, 0x11);
  const auto req_bytes = EncodeTrackRequest(6, id);
  auto req = DecodeFrame(req_bytes);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  const auto* r = (*req)->body_as_TrackRequest();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(std::vector<std::uint8_t>(r->report_id()->begin(), r->report_id()->end()), id);

  TrackReplyInfo info;
  info.report_id = id;
  info.recipients.push_back({"gbr-1", "GBR", "acknowledged", "", 1700000100, 12});
  info.recipients.push_back({"kor-1", "KOR", "expired", "REPORT_EXPIRED", 1700000200, 30});
  const auto reply_bytes = EncodeTrackReply(6, info);
  auto reply = DecodeFrame(reply_bytes);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  TrackReplyInfo back = ToTrackReplyInfo(*(*reply)->body_as_TrackReply());
  EXPECT_EQ(back.report_id, id);
  ASSERT_EQ(back.recipients.size(), 2u);
  EXPECT_EQ(back.recipients[1].node_id, "kor-1");
  EXPECT_EQ(back.recipients[1].state, "expired");
  EXPECT_EQ(back.recipients[1].reason, "REPORT_EXPIRED");
  EXPECT_EQ(back.recipients[1].updated_unix, 1700000200);
  EXPECT_EQ(back.recipients[1].record_seq, 30u);
}

TEST(WireTest, DirectoryChangedIsAnUnsolicitedNotice) {
  const auto bytes = EncodeDirectoryChanged(7);
  auto frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ((*frame)->request_id(), 0u);
  const auto* notice = (*frame)->body_as_DirectoryChanged();
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->revocation_sequence(), 7u);
}

TEST(WireTest, RejectsGarbageTruncationAndOversize) {
  EXPECT_EQ(DecodeFrame(std::span<const std::uint8_t>{}).status().reason(), "WIRE_MALFORMED");
  std::vector<std::uint8_t> garbage(100, 0x41);
  EXPECT_EQ(DecodeFrame(garbage).status().reason(), "WIRE_MALFORMED");
  auto good = EncodeSubmit(1, std::vector<std::uint8_t>(64, 7));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    auto r = DecodeFrame(std::span(good.data(), cut));
    EXPECT_FALSE(r.ok()) << "truncated to " << cut;
  }
  std::vector<std::uint8_t> big(kMaxFrameBytes + 1, 0);
  auto too_big = DecodeFrame(big);
  EXPECT_EQ(too_big.status().reason(), "WIRE_TOO_LARGE");
  EXPECT_EQ(too_big.status().code(), Code::kResourceExhausted);
}

TEST(WireTest, EveryByteFlipDecodesOrFailsCleanly) {
  auto good = EncodeHello(5, "gbr-1");
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int mask : {0x01, 0x80, 0xff}) {
      auto bad = good;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
      auto r = DecodeFrame(bad);
      if (r.ok()) {
        // Whatever decodes must be readable without touching memory outside the buffer.
        (void)(*r)->body_type();
      } else {
        EXPECT_FALSE(r.status().reason().empty());
      }
    }
  }
}

TEST(WireTest, RejectsOtherVersionsAndEmptyBodies) {
  flatbuffers::FlatBufferBuilder fbb;
  auto ping = schema::CreatePing(fbb, 1);
  fbb.Finish(schema::CreateFrame(fbb, 2, 1, schema::Body::Ping, ping.Union()),
             schema::FrameIdentifier());
  auto r = DecodeFrame({fbb.GetBufferPointer(), fbb.GetSize()});
  EXPECT_EQ(r.status().reason(), "WIRE_VERSION");

  flatbuffers::FlatBufferBuilder empty;
  empty.Finish(schema::CreateFrame(empty, kWireVersion, 1), schema::FrameIdentifier());
  EXPECT_EQ(DecodeFrame({empty.GetBufferPointer(), empty.GetSize()}).status().reason(),
            "WIRE_MALFORMED");
}

TEST(WireTest, MisalignedBuffersAreCopiedNotReadInPlace) {
  const auto good = EncodePing(1, 5);
  std::vector<std::uint8_t> shifted(good.size() + 1);
  std::copy(good.begin(), good.end(), shifted.begin() + 1);
  std::span<const std::uint8_t> odd(shifted.data() + 1, good.size());
  EXPECT_EQ(DecodeFrame(odd).status().reason(), "WIRE_MISALIGNED");
  std::vector<std::uint8_t> storage;
  auto aligned = AlignedForDecode(odd, storage);
  EXPECT_NE(aligned.data(), odd.data());
  auto frame = DecodeFrame(aligned);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ((*frame)->body_as_Ping()->nonce(), 5u);
  EXPECT_EQ(AlignedForDecode(good, storage).data(), good.data());
}

TEST(WireTest, AckMessageBindsReportAndNode) {
  std::vector<std::uint8_t> id(16, 1);
  auto a = AckMessage(id, "gbr-1");
  auto b = AckMessage(id, "gbr-2");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 16u + 5u);
}

// A refusal echoes the id of a frame DecodeFrame rejects whenever the Frame header is readable.
TEST(WireTest, PeekRequestIdReadsTheIdOfFramesTheDecoderRefuses) {
  EXPECT_EQ(PeekRequestId(EncodePing(0x1122334455667788ULL, 5)), 0x1122334455667788ULL);
  EXPECT_EQ(PeekRequestId(EncodeDirectoryChanged(3)), 0u);  // Unsolicited: id 0.

  flatbuffers::FlatBufferBuilder v2;
  auto ping = schema::CreatePing(v2, 1);
  v2.Finish(schema::CreateFrame(v2, 2, 4242, schema::Body::Ping, ping.Union()),
            schema::FrameIdentifier());
  std::span<const std::uint8_t> wrong_version(v2.GetBufferPointer(), v2.GetSize());
  EXPECT_EQ(DecodeFrame(wrong_version).status().reason(), "WIRE_VERSION");
  EXPECT_EQ(PeekRequestId(wrong_version), 4242u);

  flatbuffers::FlatBufferBuilder empty;
  empty.Finish(schema::CreateFrame(empty, kWireVersion, 99), schema::FrameIdentifier());
  std::span<const std::uint8_t> no_body(empty.GetBufferPointer(), empty.GetSize());
  EXPECT_EQ(DecodeFrame(no_body).status().reason(), "WIRE_MALFORMED");
  EXPECT_EQ(PeekRequestId(no_body), 99u);

  // Any alignment: the id is read byte by byte.
  const auto good = EncodeAck(77, std::vector<std::uint8_t>(16, 1), std::vector<std::uint8_t>(64));
  std::vector<std::uint8_t> shifted(good.size() + 1);
  std::copy(good.begin(), good.end(), shifted.begin() + 1);
  EXPECT_EQ(PeekRequestId({shifted.data() + 1, good.size()}), 77u);

  // Unreadable headers give 0: garbage, another identifier, every truncation of a frame, and
  // offsets that point outside the buffer.
  EXPECT_EQ(PeekRequestId(std::vector<std::uint8_t>(64, 0x5a)), 0u);
  EXPECT_EQ(PeekRequestId({}), 0u);
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::uint64_t id = PeekRequestId({good.data(), n});
    EXPECT_TRUE(id == 0 || id == 77u) << n;
  }
  std::vector<std::uint8_t> wild = good;
  wild[0] = 0xff;  // Root offset beyond the end.
  EXPECT_EQ(PeekRequestId(wild), 0u);
  wild = good;
  const std::uint32_t root =
      static_cast<std::uint32_t>(good[0]) | (static_cast<std::uint32_t>(good[1]) << 8);
  wild[root] = 0x00;  // vtable offset 0x??????00 points elsewhere; must stay in bounds.
  wild[root + 3] = 0x7f;
  (void)PeekRequestId(wild);
}

TEST(WireTest, DecodeFrameAppliesTheReceiversOwnCap) {
  const auto frame = EncodeSubmit(5, std::vector<std::uint8_t>(1000, 7));
  EXPECT_TRUE(DecodeFrame(frame, frame.size()).ok());
  auto r = DecodeFrame(frame, frame.size() - 1);
  EXPECT_EQ(r.status().reason(), "WIRE_TOO_LARGE");
  EXPECT_NE(r.status().message().find(std::to_string(frame.size() - 1)), std::string::npos);
  EXPECT_TRUE(DecodeFrame(frame, std::size_t{1} << 40).ok());  // kMaxFrameBytes still applies.
}

}  // namespace
}  // namespace tearline
