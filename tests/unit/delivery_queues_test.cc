#include "tearline/broker/delivery_queues.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::MiniCoalition;
using testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;

class RecordingSender : public FrameSender {
 public:
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) override {
    if (!reachable) return false;
    sent.emplace_back(node_id, frame);
    return true;
  }
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> sent;
  bool reachable = true;
};

// Decodes a frame the queues produced; the storage keeps it aligned while in use.
struct Decoded {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> storage;
  const schema::Frame* frame = nullptr;
  explicit Decoded(std::vector<std::uint8_t> frame_bytes) : bytes(std::move(frame_bytes)) {
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    EXPECT_TRUE(f.ok());
    if (f.ok()) frame = *f;
  }
};

class DeliveryQueuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_ / "audit");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auto store = ReportStore::Open(dir_ / "reports.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auditor_ = std::make_unique<Auditor>(*log_, nullptr);
    queues_ = std::make_unique<DeliveryQueues>(*store_, *auditor_, coalition_.directory(), clock_,
                                               sender_);
  }

  // Stores a report from usa-1 with one pending copy for gbr-1 in `state`.
  ReportId Store(CopyState state, std::int64_t expires = kNow + 3600) {
    const SealedReport report = coalition_.Seal("usa-1", {"(U)"}, {"GBR"}, expires);
    StoredReport row;
    row.report_id = ToHex(report.report_id);
    row.originator = "usa-1";
    row.sha256 = "00";
    row.expires_unix = expires;
    row.reply = {1};
    StoredCopy copy{"gbr-1", "GBR", state, "", report.bytes, kNow, 0};
    EXPECT_TRUE(store_->InsertReport(row, {copy}).ok());
    return report.report_id;
  }

  CopyState StateOf(const ReportId& id) {
    auto copy = store_->FindCopy(ToHex(id), "gbr-1");
    EXPECT_TRUE(copy.ok() && copy->has_value());
    return copy.ok() && copy->has_value() ? (*copy)->state : CopyState::kDenied;
  }

  std::size_t CountRecords(const std::string& type) const {
    std::size_t n = 0;
    for (std::uint64_t i = 0; i < log_->size(); ++i) {
      if (nlohmann::json::parse(*log_->Record(i))["type"] == type) ++n;
    }
    return n;
  }

  std::vector<std::uint8_t> AckFrame(const ReportId& id, const std::string& signer) {
    const Signature sig = coalition_.AckSignature(signer, id);
    return EncodeAck(1, id, sig);
  }

  FakeClock clock_{kNow};
  MiniCoalition coalition_{kNow};
  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  RecordingSender sender_;
  std::unique_ptr<DeliveryQueues> queues_;
};

TEST_F(DeliveryQueuesTest, FlushReleasesQueuedCopiesAuditedOnce) {
  const ReportId id = Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 1u);
  EXPECT_EQ(sender_.sent[0].first, "gbr-1");
  Decoded d(sender_.sent[0].second);
  ASSERT_NE(d.frame, nullptr);
  EXPECT_EQ(d.frame->body_type(), schema::Body::Deliver);
  EXPECT_EQ(StateOf(id), CopyState::kDelivered);
  EXPECT_EQ(CountRecords("delivered"), 1u);
  // A second flush (e.g. another Hello) re-sends without a second record.
  queues_->Flush("gbr-1");
  EXPECT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(CountRecords("delivered"), 1u);
}

TEST_F(DeliveryQueuesTest, RedeliversUnacknowledgedCopiesAfterTheInterval) {
  Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 1u);
  queues_->MaybeRedeliver({"gbr-1"});
  EXPECT_EQ(sender_.sent.size(), 1u);  // Sent moments ago: not due.
  clock_.Advance(std::chrono::seconds(4));
  queues_->MaybeRedeliver({"gbr-1"});
  EXPECT_EQ(sender_.sent.size(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  queues_->MaybeRedeliver({"gbr-1"});
  EXPECT_EQ(sender_.sent.size(), 2u);
  queues_->MaybeRedeliver({"gbr-1"});  // The timer runs at most once a second.
  EXPECT_EQ(sender_.sent.size(), 2u);
}

TEST_F(DeliveryQueuesTest, FailedSendKeepsTheCopyPending) {
  const ReportId id = Store(CopyState::kQueued);
  sender_.reachable = false;
  EXPECT_FALSE(queues_->Send("gbr-1", ToHex(id), {1, 2}));
  queues_->Flush("gbr-1");
  EXPECT_TRUE(IsPending(StateOf(id)));
}

TEST_F(DeliveryQueuesTest, SignedAckCompletesTheCopy) {
  const ReportId id = Store(CopyState::kDelivered);
  std::string id_hex;
  // gbr-2's signature on gbr-1's ack does not verify.
  const auto forged = AckFrame(id, "gbr-2");
  Decoded bad(forged);
  Status st = queues_->Acknowledge("gbr-1", *bad.frame->body_as_Ack(), &id_hex);
  EXPECT_EQ(st.reason(), "ACK_BAD_SIGNATURE");
  EXPECT_EQ(id_hex, ToHex(id));
  const auto ack = AckFrame(id, "gbr-1");
  Decoded good(ack);
  ASSERT_TRUE(queues_->Acknowledge("gbr-1", *good.frame->body_as_Ack(), &id_hex).ok());
  EXPECT_EQ(StateOf(id), CopyState::kAcknowledged);
  EXPECT_EQ(CountRecords("acknowledged"), 1u);
  // A repeated ack is ignored.
  ASSERT_TRUE(queues_->Acknowledge("gbr-1", *good.frame->body_as_Ack(), &id_hex).ok());
  EXPECT_EQ(CountRecords("acknowledged"), 1u);
  queues_->Flush("gbr-1");
  EXPECT_TRUE(sender_.sent.empty());
}

TEST_F(DeliveryQueuesTest, SweepExpiresPendingCopiesOfExpiredReports) {
  const ReportId id = Store(CopyState::kQueued, kNow + 30);
  queues_->MaybeSweepExpired();
  EXPECT_EQ(StateOf(id), CopyState::kQueued);
  clock_.Advance(std::chrono::seconds(30));
  queues_->MaybeSweepExpired();
  EXPECT_EQ(StateOf(id), CopyState::kExpired);
  EXPECT_EQ(CountRecords("expired"), 1u);
}

TEST_F(DeliveryQueuesTest, TrackIsForTheOriginatorOnly) {
  const ReportId id = Store(CopyState::kQueued);
  const auto request = EncodeTrackRequest(4, id);
  Decoded req(request);
  Decoded mine(queues_->Track("usa-1", 4, *req.frame->body_as_TrackRequest()));
  ASSERT_EQ(mine.frame->body_type(), schema::Body::TrackReply);
  const TrackReplyInfo info = ToTrackReplyInfo(*mine.frame->body_as_TrackReply());
  ASSERT_EQ(info.recipients.size(), 1u);
  EXPECT_EQ(info.recipients[0].node_id, "gbr-1");
  EXPECT_EQ(info.recipients[0].state, "queued");
  Decoded theirs(queues_->Track("gbr-1", 5, *req.frame->body_as_TrackRequest()));
  ASSERT_EQ(theirs.frame->body_type(), schema::Body::Error);
  EXPECT_EQ(theirs.frame->body_as_Error()->reason()->str(), "TRACK_FORBIDDEN");
}

}  // namespace
}  // namespace tearline::broker
