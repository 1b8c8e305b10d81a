#include "tearline/broker/log_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::MiniCoalition;
using testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;

struct Decoded {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> storage;
  const schema::Frame* frame = nullptr;
  explicit Decoded(std::vector<std::uint8_t> frame_bytes) : bytes(std::move(frame_bytes)) {
    auto f = DecodeFrame(AlignedForDecode(bytes, storage));
    EXPECT_TRUE(f.ok());
    if (f.ok()) frame = *f;
  }
  std::string ErrorReason() const {
    const auto* e = frame ? frame->body_as_Error() : nullptr;
    return e && e->reason() ? e->reason()->str() : "";
  }
};

class LogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = GenerateSigningKeyPair();
    ASSERT_TRUE(keys.ok());
    signer_ = std::make_unique<SigningKeyPair>(std::move(keys).value());
    auto log = AuditLog::Open(dir_ / "audit", "tearline/audit/broker", signer_.get());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    service_ = std::make_unique<LogService>(*log_, coalition_.directory(), clock_,
                                            LogServiceOptions{4, std::chrono::milliseconds(2000)});
  }

  void Append(const std::string& node) {
    ASSERT_TRUE(log_->Append("node_connected", {{"node", node}}).ok());
  }

  FakeClock clock_{kNow};
  MiniCoalition coalition_{kNow};
  TempDir dir_;
  std::unique_ptr<SigningKeyPair> signer_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<LogService> service_;
};

TEST_F(LogServiceTest, CheckpointsAfterEnoughRecordsOrAfterTheInterval) {
  ASSERT_TRUE(service_->Checkpoint().ok());
  EXPECT_EQ(log_->checkpoint_size(), 0u);
  for (int i = 0; i < 3; ++i) Append("usa-1");
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(log_->checkpoint_size(), 0u);  // 3 < checkpoint_every, interval not passed.
  Append("usa-1");
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(log_->checkpoint_size(), 4u);
  Append("usa-1");
  clock_.Advance(std::chrono::milliseconds(1999));
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(log_->checkpoint_size(), 4u);
  clock_.Advance(std::chrono::milliseconds(1));
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(log_->checkpoint_size(), 5u);
}

TEST_F(LogServiceTest, ServesCheckpointsWithConsistencyProofs) {
  Decoded none(service_->CheckpointReply(1, 5));  // Nothing logged, so nothing to sign.
  EXPECT_EQ(none.ErrorReason(), "CHECKPOINT_UNAVAILABLE");
  Append("usa-1");
  Append("gbr-1");
  service_->MaybeCheckpoint(true);
  Decoded reply(service_->CheckpointReply(2, 1));
  ASSERT_EQ(reply.frame->body_type(), schema::Body::CheckpointReply);
  EXPECT_NE(reply.frame->body_as_CheckpointReply()->proof(), nullptr);
}

TEST_F(LogServiceTest, ProofsOnlyForRecordsNamingTheNode) {
  Append("usa-1");
  Append("gbr-1");
  Decoded forbidden(service_->Proof("usa-1", 1, 1));
  EXPECT_EQ(forbidden.ErrorReason(), "PROOF_FORBIDDEN");
  EXPECT_EQ(log_->checkpoint_size(), 0u);  // A stranger cannot make the broker sign.
  Decoded proof(service_->Proof("usa-1", 2, 0));
  ASSERT_EQ(proof.frame->body_type(), schema::Body::ProofReply);
  EXPECT_EQ(log_->checkpoint_size(), 2u);
  Decoded missing(service_->Proof("usa-1", 3, 99));
  EXPECT_EQ(missing.ErrorReason(), "AUDIT_NO_RECORD");
}

TEST_F(LogServiceTest, ProofsFollowTheRecordsNamingFieldsNotTheirText) {
  DeliveredFromQueueRecord delivered;
  delivered.report_id = "00";
  delivered.recipient = "gbr-1";
  ASSERT_TRUE(log_->Append(delivered).ok());
  DeniedRecord denied;
  denied.report_id = "00";
  denied.originator = "usa-1";
  denied.recipient = "kor-1";
  denied.nation = "KOR";
  denied.reason = "NOT_RELEASABLE";
  denied.explanation = "gbr-1 is not a recipient of this portion";
  ASSERT_TRUE(log_->Append(denied).ok());
  Decoded text_only(service_->Proof("gbr-1", 1, 1));
  EXPECT_EQ(text_only.ErrorReason(), "PROOF_FORBIDDEN");
  EXPECT_EQ(Decoded(service_->Proof("gbr-1", 2, 0)).frame->body_type(), schema::Body::ProofReply);
  EXPECT_EQ(Decoded(service_->Proof("usa-1", 3, 1)).frame->body_type(), schema::Body::ProofReply);
  // The denied record names kor-1 as its recipient, but what was withheld from a recipient is
  // not its to prove (it used to be served: issue 11).
  EXPECT_EQ(Decoded(service_->Proof("kor-1", 4, 1)).ErrorReason(), "PROOF_FORBIDDEN");
}

// What was withheld from a recipient is not its to prove, and the refusal reads the same as for a
// record about strangers; the originator proves every record of its report, also those that do
// not name it (resolved through the report store).
TEST_F(LogServiceTest, RecipientsCannotProveWhatWasWithheldFromThem) {
  service_ = std::make_unique<LogService>(
      *log_, coalition_.directory(), clock_, LogServiceOptions{4, std::chrono::milliseconds(2000)},
      nullptr, [](std::string_view id) -> std::optional<std::string> {
        if (id == "00") return "usa-1";
        return std::nullopt;
      });
  DeniedRecord denied;
  denied.report_id = "00";
  denied.originator = "usa-1";
  denied.recipient = "gbr-1";
  denied.nation = "GBR";
  denied.portion = 1;
  denied.label = "(S//REL TO USA, JPN)";
  denied.reason = "NOT_RELEASABLE";
  denied.explanation = "not releasable to GBR";
  ASSERT_TRUE(log_->Append(denied).ok());  // 0
  AcknowledgedRecord ack;
  ack.report_id = "00";
  ack.recipient = "gbr-1";
  ack.signature = "00";
  ASSERT_TRUE(log_->Append(ack).ok());  // 1
  Append("jpn-1");                      // 2
  Decoded withheld(service_->Proof("gbr-1", 1, 0));
  Decoded strangers(service_->Proof("gbr-1", 2, 2));
  EXPECT_EQ(withheld.ErrorReason(), "PROOF_FORBIDDEN");
  EXPECT_EQ(strangers.ErrorReason(), "PROOF_FORBIDDEN");
  const std::string a = withheld.frame->body_as_Error()->message()->str();
  const std::string b = strangers.frame->body_as_Error()->message()->str();
  EXPECT_EQ(a.substr(a.find(" is not")), b.substr(b.find(" is not")));
  EXPECT_EQ(a.find("(S//"), std::string::npos) << a;
  EXPECT_EQ(log_->checkpoint_size(), 0u);
  EXPECT_EQ(Decoded(service_->Proof("gbr-1", 3, 1)).frame->body_type(), schema::Body::ProofReply);
  EXPECT_EQ(Decoded(service_->Proof("usa-1", 4, 0)).frame->body_type(), schema::Body::ProofReply);
  EXPECT_EQ(Decoded(service_->Proof("usa-1", 5, 1)).frame->body_type(), schema::Body::ProofReply);
  EXPECT_EQ(Decoded(service_->Proof("jpn-1", 6, 1)).ErrorReason(), "PROOF_FORBIDDEN");
}

struct RecordingSender : FrameSender {
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> sent;
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) override {
    sent.emplace_back(node_id, frame);
    return true;
  }
};

std::size_t CheckpointFiles(const std::filesystem::path& audit_dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(audit_dir / "checkpoints")) {
    (void)e;
    ++n;
  }
  return n;
}

// A node asking for proofs of ever newer records of its own cannot make the broker sign more
// than once per interval: the requests wait for the scheduled checkpoint and are all answered
// right after it.
TEST_F(LogServiceTest, ProofRequestsWaitForTheScheduledCheckpointInsteadOfForcingOne) {
  RecordingSender sender;
  service_ = std::make_unique<LogService>(*log_, coalition_.directory(), clock_,
                                          LogServiceOptions{1000, std::chrono::milliseconds(2000)},
                                          &sender);
  ASSERT_TRUE(service_->Checkpoint().ok());
  const std::size_t before = CheckpointFiles(dir_ / "audit");
  constexpr std::uint64_t kRequests = 200;
  for (std::uint64_t i = 0; i < kRequests; ++i) {
    Append("usa-1");
    clock_.Advance(std::chrono::milliseconds(1));
    EXPECT_TRUE(service_->Proof("usa-1", 100 + i, log_->size() - 1).empty()) << i;
  }
  EXPECT_EQ(CheckpointFiles(dir_ / "audit"), before);
  EXPECT_TRUE(sender.sent.empty());
  clock_.Advance(std::chrono::milliseconds(2000));
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(CheckpointFiles(dir_ / "audit"), before + 1);
  ASSERT_EQ(sender.sent.size(), static_cast<std::size_t>(kRequests));
  EXPECT_EQ(service_->parked(), 0u);
  for (const auto& [node, frame] : sender.sent) {
    EXPECT_EQ(node, "usa-1");
    EXPECT_EQ(Decoded(frame).frame->body_type(), schema::Body::ProofReply);
  }
  // Parking is bounded per node.
  for (std::size_t i = 0; i <= LogService::kMaxParkedPerNode; ++i) {
    Append("usa-1");
    auto reply = service_->Proof("usa-1", 1000 + i, log_->size() - 1);
    if (i < LogService::kMaxParkedPerNode) {
      EXPECT_TRUE(reply.empty()) << i;
    } else {
      ASSERT_FALSE(reply.empty());
      EXPECT_EQ(Decoded(reply).ErrorReason(), "PROOF_BUSY");
    }
  }
}

// Takes `capacity` frames, then refuses like a full send queue until drained.
struct BoundedSender : FrameSender {
  std::size_t capacity = 0;
  std::vector<std::vector<std::uint8_t>> sent;
  bool SendTo(const std::string&, const std::vector<std::uint8_t>& frame) override {
    if (capacity == 0) return false;
    --capacity;
    sent.push_back(frame);
    return true;
  }
};

// The send queue toward a node is small (the delivery window plus a margin): answers it
// refuses stay parked and go out at later housekeeping, and are dropped only after a bound.
TEST_F(LogServiceTest, ParkedAnswersTheSendQueueRefusesAreOfferedAgain) {
  BoundedSender sender;
  service_ = std::make_unique<LogService>(*log_, coalition_.directory(), clock_,
                                          LogServiceOptions{1000, std::chrono::milliseconds(2000)},
                                          &sender);
  ASSERT_TRUE(service_->Checkpoint().ok());
  constexpr std::size_t kRequests = 100;
  for (std::size_t i = 0; i < kRequests; ++i) {
    Append("usa-1");
    EXPECT_TRUE(service_->Proof("usa-1", 100 + i, log_->size() - 1).empty()) << i;
  }
  sender.capacity = 30;
  clock_.Advance(std::chrono::milliseconds(2000));
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(sender.sent.size(), 30u);
  EXPECT_EQ(service_->parked(), kRequests - 30);
  service_->MaybeCheckpoint(false);  // Still full: nothing lost, nothing sent.
  EXPECT_EQ(service_->parked(), kRequests - 30);
  sender.capacity = 50;
  clock_.Advance(std::chrono::milliseconds(200));
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(sender.sent.size(), 80u);
  for (const auto& frame : sender.sent) {
    EXPECT_EQ(Decoded(frame).frame->body_type(), schema::Body::ProofReply);
  }
  // A node that never reads again does not hold parking slots for ever.
  clock_.Advance(LogService::kUnsentAnswerLifetime);
  service_->MaybeCheckpoint(false);
  EXPECT_EQ(service_->parked(), 0u);
}

TEST_F(LogServiceTest, StoresOnlyValidCosignaturesOfSignedCheckpoints) {
  Append("usa-1");
  service_->MaybeCheckpoint(true);
  auto body = ParseCheckpointBody(
      log_->LatestCheckpoint().substr(0, log_->LatestCheckpoint().find("\n\n") + 1));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto line = Cosign(*body, "gbr-1", coalition_.keys("gbr-1").signing, kNow);
  ASSERT_TRUE(line.ok()) << line.status().ToString();

  Decoded unknown(EncodeCosignature(1, 7, *line));
  EXPECT_EQ(service_->StoreCosignature("gbr-1", *unknown.frame->body_as_Cosignature()).reason(),
            "COSIGNATURE_UNKNOWN_CHECKPOINT");
  Decoded good(EncodeCosignature(1, 1, *line));
  EXPECT_FALSE(service_->StoreCosignature("usa-1", *good.frame->body_as_Cosignature()).ok());
  Status st = service_->StoreCosignature("gbr-1", *good.frame->body_as_Cosignature());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(testing::ReadFile(dir_ / "audit" / "cosignatures" / "1.gbr-1").empty());
}

TEST_F(LogServiceTest, PublishesPolicyAndCertificatesForAuditors) {
  ASSERT_TRUE(service_
                  ->PublishAuditContext(testing::SourcePath("deploy/policy/coalition.toml"),
                                        coalition_.trust())
                  .ok());
  EXPECT_FALSE(testing::ReadFile(dir_ / "audit" / "policy.toml").empty());
  EXPECT_FALSE(testing::ReadFile(dir_ / "audit" / "certs" / "gbr-1.cert").empty());
}

// After a key rotation a restart replaces <id>.cert with the new certificate; the earlier one is
// kept by serial, so the cosignatures its key made still verify.
TEST_F(LogServiceTest, KeepsTheEarlierCertificateOfARotatedWitness) {
  const auto policy = testing::SourcePath("deploy/policy/coalition.toml");
  ASSERT_TRUE(service_->PublishAuditContext(policy, coalition_.trust()).ok());
  const std::vector<std::uint8_t> old_bytes = coalition_.cert("gbr-1").encoded();
  const std::uint64_t old_serial = coalition_.cert("gbr-1").fields().serial;
  coalition_.Issue("gbr-1", "GBR", "SECRET");  // The directory the service reads now has it.
  ASSERT_TRUE(service_->PublishAuditContext(policy, coalition_.trust()).ok());
  const auto certs = dir_ / "audit" / "certs";
  auto current = ReadCertificateFile((certs / "gbr-1.cert").string());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->encoded(), coalition_.cert("gbr-1").encoded());
  auto kept =
      ReadCertificateFile((certs / ("gbr-1." + std::to_string(old_serial) + ".cert")).string());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->encoded(), old_bytes);
}

}  // namespace
}  // namespace tearline::broker
