#include "tearline/broker/delivery_queues.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

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
  // Like a commit group: every tracked frame is taken; `unsent` holds the hooks of those the
  // transport will turn away later.
  bool SendTracked(const std::string& node_id, const std::vector<std::uint8_t>& frame,
                   std::function<void()> on_unsent) override {
    if (!holding) return SendTo(node_id, frame);
    sent.emplace_back(node_id, frame);
    unsent.push_back(std::move(on_unsent));
    return true;
  }
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> sent;
  std::vector<std::function<void()>> unsent;
  bool reachable = true;
  bool holding = false;
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
    stored_[row.report_id] = report.bytes;
    return report.report_id;
  }

  void UseOptions(const DeliveryOptions& options) {
    queues_ = std::make_unique<DeliveryQueues>(*store_, *auditor_, coalition_.directory(), clock_,
                                               sender_, options);
  }

  // gbr-1's refusal of the Deliver frame `sent_index`, naming the report when `id` is given.
  void Refuse(std::size_t sent_index, const std::string& reason,
              std::optional<ReportId> id = std::nullopt) {
    Decoded deliver(sender_.sent.at(sent_index).second);
    const Status why(Code::kInvalidArgument, reason, "refused");
    const auto frame = id ? EncodeDeliveryRefusal(deliver.frame->request_id(), why, *id)
                          : EncodeError(deliver.frame->request_id(), why);
    Decoded error(frame);
    queues_->Refused("gbr-1", deliver.frame->request_id(), *error.frame->body_as_Error());
  }

  // The report id of the Deliver frame `sent_index`.
  std::string SentId(std::size_t sent_index) {
    Decoded deliver(sender_.sent.at(sent_index).second);
    const auto* report = deliver.frame->body_as_Deliver()->report();
    for (const auto& [hex, bytes] : stored_) {
      if (bytes.size() == report->size() &&
          std::equal(bytes.begin(), bytes.end(), report->data())) {
        return hex;
      }
    }
    return "";
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
  std::map<std::string, std::vector<std::uint8_t>> stored_;  // Report id hex -> copy bytes.
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

TEST_F(DeliveryQueuesTest, AtMostOneWindowOfCopiesIsInFlight) {
  DeliveryOptions options;
  options.window_copies = 2;
  UseOptions(options);
  std::vector<ReportId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Store(CopyState::kQueued));
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(StateOf(ids[2]), CopyState::kQueued) << "not released while the window is full";
  // A new copy from the submit pipeline waits too.
  EXPECT_FALSE(queues_->Send("gbr-1", ToHex(ids[4]), {1, 2, 3}));
  // An Ack frees a slot: the next copy goes out at once.
  std::string hex;
  Decoded ack(AckFrame(ids[0], "gbr-1"));
  ASSERT_TRUE(queues_->Acknowledge("gbr-1", *ack.frame->body_as_Ack(), &hex).ok());
  ASSERT_EQ(sender_.sent.size(), 3u);
  EXPECT_EQ(SentId(2), ToHex(ids[2]));
  // A new connection starts a new window from the head of the queue.
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 5u);
  EXPECT_EQ(SentId(3), ToHex(ids[1]));
  EXPECT_EQ(SentId(4), ToHex(ids[2]));

  // The byte window: one copy always goes, a second only if both fit.
  options.window_copies = 32;
  options.window_bytes = 1;
  UseOptions(options);
  sender_.sent.clear();
  queues_->Flush("gbr-1");
  EXPECT_EQ(sender_.sent.size(), 1u);
}

TEST_F(DeliveryQueuesTest, ADeliverTheTransportTurnedAwayLaterFreesItsSlot) {
  DeliveryOptions options;
  options.window_copies = 1;
  UseOptions(options);
  sender_.holding = true;
  const ReportId first = Store(CopyState::kQueued);
  Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 1u);
  queues_->Flush("gbr-1", /*due_only=*/true);
  ASSERT_EQ(sender_.sent.size(), 1u) << "the window is full";
  // The held Deliver could not be handed over: its slot is free at once, not after
  // redeliver_after, and the copy stays pending (released, so not audited again).
  sender_.unsent.at(0)();
  EXPECT_EQ(StateOf(first), CopyState::kDelivered);
  queues_->Flush("gbr-1", /*due_only=*/true);
  EXPECT_EQ(sender_.sent.size(), 2u);
  // A hook of an older send does not free the slot of a newer one.
  sender_.unsent.at(0)();
  queues_->Flush("gbr-1", /*due_only=*/true);
  EXPECT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(CountRecords("delivered"), 2u);
}

TEST_F(DeliveryQueuesTest, PermanentRefusalsFailTheCopyOnceAfterTheBound) {
  DeliveryOptions options;
  options.max_refusals = 2;
  options.redeliver_after = std::chrono::seconds(1);
  UseOptions(options);
  const ReportId named = Store(CopyState::kQueued);
  const ReportId echoed = Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  ASSERT_EQ(sender_.sent.size(), 2u);
  Refuse(0, "ENVELOPE_DECRYPT_FAILED", named);
  Refuse(1, "ENVELOPE_KEY_MISMATCH");  // An older node: only the request id.
  EXPECT_EQ(sender_.sent.size(), 2u) << "a refused copy waits before its next attempt";
  EXPECT_TRUE(IsPending(StateOf(named)));
  clock_.Advance(std::chrono::seconds(1));
  queues_->MaybeRedeliver({"gbr-1"});
  ASSERT_EQ(sender_.sent.size(), 4u);
  Refuse(2, "ENVELOPE_DECRYPT_FAILED", named);
  Refuse(3, "ENVELOPE_KEY_MISMATCH");
  EXPECT_EQ(StateOf(named), CopyState::kFailed);
  EXPECT_EQ(StateOf(echoed), CopyState::kFailed);
  EXPECT_EQ(CountRecords("failed"), 2u);
  auto copy = store_->FindCopy(ToHex(named), "gbr-1");
  EXPECT_EQ((*copy)->reason, "ENVELOPE_DECRYPT_FAILED");
  EXPECT_TRUE((*copy)->bytes.empty());
  // Given up: never sent again, and a late refusal is ignored (no second record).
  clock_.Advance(std::chrono::minutes(10));
  queues_->MaybeRedeliver({"gbr-1"});
  queues_->Flush("gbr-1");
  EXPECT_EQ(sender_.sent.size(), 4u);
  Refuse(2, "ENVELOPE_DECRYPT_FAILED", named);
  EXPECT_EQ(CountRecords("failed"), 2u);
  // The originator sees it.
  Decoded req(EncodeTrackRequest(4, named));
  Decoded reply(queues_->Track("usa-1", 4, *req.frame->body_as_TrackRequest()));
  const TrackReplyInfo info = ToTrackReplyInfo(*reply.frame->body_as_TrackReply());
  ASSERT_EQ(info.recipients.size(), 1u);
  EXPECT_EQ(info.recipients[0].state, "failed");
  EXPECT_EQ(info.recipients[0].reason, "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(DeliveryQueuesTest, TransientRefusalsDelayButNeverFail) {
  DeliveryOptions options;
  options.max_refusals = 2;
  options.redeliver_after = std::chrono::seconds(1);
  UseOptions(options);
  const ReportId id = Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(sender_.sent.size(), static_cast<std::size_t>(i) + 1);
    Refuse(sender_.sent.size() - 1, "ORIGINATOR_UNKNOWN", id);
    clock_.Advance(std::chrono::seconds(1) * (1 << i));  // The wait doubles per refusal.
    queues_->MaybeRedeliver({"gbr-1"});
  }
  EXPECT_TRUE(IsPending(StateOf(id)));
  EXPECT_EQ(CountRecords("failed"), 0u);
  // A reason that is not a code is recorded as DELIVERY_REFUSED, and is permanent.
  Refuse(sender_.sent.size() - 1, "no such {code}", id);
  clock_.Advance(std::chrono::minutes(5));
  queues_->MaybeRedeliver({"gbr-1"});
  Refuse(sender_.sent.size() - 1, "no such {code}", id);
  EXPECT_EQ(StateOf(id), CopyState::kFailed);
  EXPECT_EQ((*store_->FindCopy(ToHex(id), "gbr-1"))->reason, "DELIVERY_REFUSED");
}

TEST_F(DeliveryQueuesTest, RefusedCopiesAtTheHeadDoNotHoldBackLaterOnes) {
  DeliveryOptions options;
  options.window_copies = 4;
  options.redeliver_after = std::chrono::minutes(1);
  UseOptions(options);
  constexpr int kStuck = 300;
  std::vector<ReportId> ids;
  for (int i = 0; i <= kStuck; ++i) ids.push_back(Store(CopyState::kDelivered));
  queues_->Flush("gbr-1");
  // The recipient refuses every copy but the last: each refusal lets the next one out.
  for (std::size_t next = 0; next < sender_.sent.size() && next < 1000; ++next) {
    const std::string hex = SentId(next);
    if (hex != ToHex(ids.back())) Refuse(next, "ORIGINATOR_UNKNOWN");
  }
  ASSERT_FALSE(sender_.sent.empty());
  EXPECT_EQ(SentId(sender_.sent.size() - 1), ToHex(ids.back()));
  EXPECT_EQ(sender_.sent.size(), static_cast<std::size_t>(kStuck) + 1);
}

TEST_F(DeliveryQueuesTest, RefusalsOfNoPendingCopyAreIgnored) {
  const ReportId id = Store(CopyState::kQueued);
  queues_->Flush("gbr-1");
  Decoded unknown(EncodeError(999, Status(Code::kInvalidArgument, "ENVELOPE_MALFORMED", "x")));
  queues_->Refused("gbr-1", 999, *unknown.frame->body_as_Error());
  // Another node cannot refuse gbr-1's copy.
  Decoded other(
      EncodeDeliveryRefusal(1, Status(Code::kInvalidArgument, "ENVELOPE_MALFORMED", "x"), id));
  for (int i = 0; i < 5; ++i) queues_->Refused("jpn-1", 1, *other.frame->body_as_Error());
  EXPECT_EQ(StateOf(id), CopyState::kDelivered);
  EXPECT_EQ(CountRecords("failed"), 0u);
}

}  // namespace
}  // namespace tearline::broker
