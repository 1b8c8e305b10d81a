#include "tearline/broker/auditor.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <variant>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/encoding.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::TempDir;

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_ / "audit");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auto store = ReportStore::Open(dir_ / "reports.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auditor_ = std::make_unique<Auditor>(*log_, [this] { ++failures_; });
  }

  nlohmann::json RecordAt(std::uint64_t seq) {
    auto line = log_->Record(seq);
    EXPECT_TRUE(line.ok());
    return line.ok() ? nlohmann::json::parse(*line) : nlohmann::json();
  }

  // The exact line of record `seq` with its `time` value (the wall clock's) replaced by T.
  std::string LineAt(std::uint64_t seq) {
    auto line = log_->Record(seq);
    EXPECT_TRUE(line.ok());
    return line.ok() ? std::regex_replace(*line, std::regex(R"("time":[0-9.]+)"), R"("time":T)")
                     : "";
  }

  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  int failures_ = 0;
};

TEST_F(AuditorTest, RejectedInputNamesTheReportOnlyWhenKnown) {
  const Status why = InvalidArgument("WIRE_MALFORMED", "bad frame");
  auto a = auditor_->Durable(auditor_->RejectedInput("usa-1", why, ""));
  auto b = auditor_->Durable(auditor_->RejectedInput("usa-1", why, "00ff"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*b, *a + 1);
  const auto ra = RecordAt(*a);
  EXPECT_EQ(ra["type"], "rejected_input");
  EXPECT_EQ(ra["node"], "usa-1");
  EXPECT_EQ(ra["reason"], "WIRE_MALFORMED");
  EXPECT_EQ(ra["explanation"], "bad frame");
  EXPECT_FALSE(ra.contains("report_id"));
  EXPECT_EQ(RecordAt(*b)["report_id"], "00ff");
  EXPECT_EQ(failures_, 0);
}

TEST_F(AuditorTest, ThrottledRecordsCarryTheSuppressedCount) {
  const Status why(Code::kResourceExhausted, "RATE_LIMITED", "too many");
  auto seq = auditor_->Durable(auditor_->RejectedInputThrottled("gbr-1", why, 7));
  ASSERT_TRUE(seq);
  EXPECT_EQ(RecordAt(*seq)["suppressed"], 7);
  std::array<std::uint8_t, 32> key{};
  key[0] = 0xab;
  seq = auditor_->Durable(auditor_->ConnectionRefused("tcp://10.0.0.1", key, why, 3));
  ASSERT_TRUE(seq);
  const auto r = RecordAt(*seq);
  EXPECT_EQ(r["type"], "connection_refused");
  EXPECT_EQ(r["peer_address"], "tcp://10.0.0.1");
  EXPECT_EQ(r["client_key"].get<std::string>().substr(0, 2), "ab");
  EXPECT_EQ(r["suppressed"], 3);
}

// While alive, writes beyond `bytes` in any file of this process fail with EFBIG (as on a full
// disk), instead of raising SIGXFSZ.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lower = old_;
    lower.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lower);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST_F(AuditorTest, FailedAppendStopsTheBrokerAndReturnsNothing) {
  // A record that cannot be written (the disk refuses it) must not let the decision take
  // effect. (Formerly induced with a record over 1 MiB, which is now bounded, not refused.)
  const Status huge(Code::kInvalidArgument, "X", std::string(2 << 20, 'x'));
  {
    FileSizeLimit no_room(0);
    EXPECT_FALSE(auditor_->Durable(auditor_->RejectedInput("usa-1", huge, "")));
  }
  EXPECT_EQ(failures_, 1);
  EXPECT_EQ(log_->size(), 0u);
  EXPECT_EQ(auditor_->failure().reason(), "AUDIT_IO");
}

TEST_F(AuditorTest, OversizedNodeTextIsWrittenBoundedNotRefused) {
  const Status huge(Code::kInvalidArgument, "X", std::string(2 << 20, 'x'));
  auto seq = auditor_->Durable(
      auditor_->DeliveryRejectedByRecipient("usa-1", std::string(4096, 'R'), huge.message()));
  ASSERT_TRUE(seq);
  EXPECT_EQ(failures_, 0);
  EXPECT_TRUE(auditor_->failure().ok());
  const auto r = RecordAt(*seq);
  EXPECT_LE(r["explanation"].get<std::string>().size(), kMaxAuditStringBytes);
  EXPECT_NE(r["reason"].get<std::string>().find("...[truncated "), std::string::npos);
}

TEST_F(AuditorTest, FindsAcceptedReportsTheStoreLost) {
  ReportView view;
  view.report_id[0] = 1;
  view.originator = "usa-1";
  view.originator_nation = "USA";
  view.expires_unix = 100;
  PortionView p;
  p.index = 0;
  p.label = "(U)";
  p.ciphertext_bytes = 42;
  view.portions.push_back(p);
  const Policy& policy = testing::CoalitionPolicy();
  ASSERT_TRUE(auditor_->Durable(auditor_->Accepted(view, policy)));
  ReportView stored = view;
  stored.report_id[0] = 2;
  ASSERT_TRUE(auditor_->Durable(auditor_->Accepted(stored, policy)));
  StoredReport row;
  row.report_id = ToHex(stored.report_id);
  row.originator = "usa-1";
  row.sha256 = "00";
  row.reply = {1};
  ASSERT_TRUE(store_->InsertReport(row, {}).ok());

  auto orphans = Auditor::FindOrphanedAccepts(*log_, *store_);
  ASSERT_TRUE(orphans.ok()) << orphans.status().ToString();
  ASSERT_EQ(orphans->size(), 1u);
  const auto& [id, fingerprint] = *orphans->begin();
  EXPECT_EQ(id, ToHex(view.report_id));
  // A retry of the same content matches the logged record; different content does not.
  EXPECT_EQ(fingerprint, FingerprintOf(view));
  ReportView changed = view;
  changed.portions[0].label = "(S)";
  EXPECT_NE(fingerprint, FingerprintOf(changed));
}

RecipientPlan GbrPlan() {
  RecipientPlan plan;
  plan.nation = "GBR";
  plan.node_id = "gbr-1";
  PortionDecision released;
  released.index = 0;
  released.label = "(U)";
  released.release = true;
  PortionDecision denied;
  denied.index = 1;
  denied.label = "(S//NOFORN)";
  denied.reason = "NOT_RELEASABLE";
  denied.explanation = "NOFORN";
  plan.decisions = {released, denied};
  return plan;
}

ReportView OnePortionView() {
  ReportView view;
  view.report_id[0] = 0xab;
  view.originator = "usa-1";
  view.originator_nation = "USA";
  view.intended_nations = {"GBR", "KOR"};
  view.created_unix = 10;
  view.expires_unix = 100;
  view.report_bytes = 512;
  PortionView p;
  p.index = 0;
  p.label = "(U)";
  p.ciphertext_bytes = 42;
  view.portions.push_back(p);
  return view;
}

TEST_F(AuditorTest, KnownAnswerLinesForTypedRecords) {
  const RecipientPlan plan = GbrPlan();
  const ReportView view = OnePortionView();
  const std::string id = ToHex(view.report_id);
  auto denied = auditor_->PortionDenied(id, "usa-1", plan, plan.decisions[1]);
  auto whole = auditor_->RecipientDenied(id, "usa-1", plan, "QUEUE_FULL", "queue full");
  auto queued = auditor_->Released(false, id, view, plan, "SECRET");
  auto accepted = auditor_->Accepted(view, testing::CoalitionPolicy());
  ASSERT_TRUE(auditor_->Durable(accepted));
  const std::string rid = "ab" + std::string(30, '0');
  // Keys sorted, no spaces: the bytes the log's Merkle leaves and auditors' verifiers see.
  const std::string expect_denied =
      R"j({"explanation":"NOFORN","label":"(S//NOFORN)","nation":"GBR","originator":"usa-1",)j"
      R"j("portion":1,"reason":"NOT_RELEASABLE","recipient":"gbr-1","report_id":")j" +
      rid + R"j(","seq":0,"time":T,"type":"denied"})j";
  const std::string expect_whole =
      R"j({"explanation":"queue full","nation":"GBR","originator":"usa-1",)j"
      R"j("reason":"QUEUE_FULL","recipient":"gbr-1","report_id":")j" +
      rid + R"j(","seq":1,"time":T,"type":"denied"})j";
  const std::string expect_queued =
      R"j({"clearance":"SECRET","nation":"GBR","originator":"usa-1","originator_nation":"USA",)j"
      R"j("portions":[{"index":0,"label":"(U)"}],"recipient":"gbr-1","report_id":")j" +
      rid + R"j(","seq":2,"time":T,"type":"queued"})j";
  const std::string expect_accepted =
      R"j({"created":10,"expires":100,"intended_nations":["GBR","KOR"],"originator":"usa-1",)j"
      R"j("originator_nation":"USA","policy_sha256":")j" +
      testing::CoalitionPolicy().digest_hex() +
      R"j(","portions":[{"ciphertext_bytes":42,"ciphertext_sha256":")j" + std::string(64, '0') +
      R"j(","index":0,"label":"(U)"}],"report_bytes":512,"report_id":")j" + rid +
      R"j(","seq":3,"time":T,"type":"accepted"})j";
  EXPECT_EQ(LineAt(*denied), expect_denied);
  EXPECT_EQ(LineAt(*whole), expect_whole);
  EXPECT_EQ(LineAt(*queued), expect_queued);
  EXPECT_EQ(LineAt(*accepted), expect_accepted);
  EXPECT_EQ(failures_, 0);
}

TEST_F(AuditorTest, EveryRecordDecodesAsItsTypedDefinition) {
  const RecipientPlan plan = GbrPlan();
  const ReportView view = OnePortionView();
  const std::string id = ToHex(view.report_id);
  const Status why = InvalidArgument("WIRE_MALFORMED", "bad frame");
  const std::uint8_t signature[] = {1, 2, 3};
  ExpiredCopy expired{id, "usa-1", "gbr-1", "GBR"};
  ForwardView forward;
  forward.forwarder = "gbr-1";
  forward.forwarder_nation = "GBR";
  forward.target_nation = "AUS";
  forward.portions = {0};
  forward.report = view;
  ReleaseDecisionFields release;
  release.request_id = id;
  release.report_id = id;
  release.originator = "usa-1";
  release.requester = "jpn-1";
  release.to_nation = "KOR";
  release.decision = "approved";
  release.label = "(S//REL TO USA, JPN, KOR)";
  release.release_report_id = id;
  release.signature = "00";
  ReleaseDecisionFields auto_release = release;
  auto_release.rule = "fvey-to-asia";
  const std::vector<std::optional<std::uint64_t>> seqs = {
      auditor_->BrokerStart("broker-1", 3, 0),
      auditor_->PolicyLoaded(testing::CoalitionPolicy()),
      auditor_->BrokerStop("broker-1"),
      auditor_->NodeConnected("usa-1"),
      auditor_->ConnectionRefused("tcp://10.0.0.1", {}, why, 0),
      auditor_->RejectedInput("usa-1", why, id),
      auditor_->Accepted(view, testing::CoalitionPolicy()),
      auditor_->PortionDenied(id, "usa-1", plan, plan.decisions[1]),
      auditor_->Released(true, id, view, plan, "SECRET"),
      auditor_->DeliveredFromQueue(id, "gbr-1"),
      auditor_->Released(false, id, view, plan, "SECRET"),
      auditor_->Acknowledged(id, "gbr-1", signature),
      auditor_->Expired(expired),
      auditor_->DeliveryRejectedByRecipient("gbr-1", "REPORT_UNREADABLE", "cannot open"),
      auditor_->Failed(id, "usa-1", "gbr-1", "GBR", "ENVELOPE_DECRYPT_FAILED", 3),
      auditor_->Forwarded(forward, testing::CoalitionPolicy()),
      auditor_->ForwardRefused("kor-1", why, &forward),
      auditor_->ReleaseRequested({id, id, 0, "usa-1", "jpn-1", "JPN", "KOR", "why"}),
      auditor_->ReleaseDecision(release, false),
      auditor_->ReleaseDecision(auto_release, false),
      auditor_->ReleaseDecision(release, true),
      auditor_->CertificateAccepted({"usa-1", 2, std::string(64, 'c'), 1, 1800604800}),
  };
  ASSERT_TRUE(auditor_->Sync());
  // One method per AnyAuditRecord alternative, in the variant's order.
  ASSERT_EQ(seqs.size(), std::variant_size_v<AnyAuditRecord>);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_TRUE(seqs[i]) << i;
    auto line = log_->Record(*seqs[i]);
    ASSERT_TRUE(line.ok());
    auto record = DecodeLoggedRecord(*line);
    ASSERT_TRUE(record.ok()) << *line << ": " << record.status().ToString();
    EXPECT_EQ(record->index(), i) << *line;
  }
  // A retry's fingerprint equals the one read back from its accepted record.
  auto accepted = DecodeLoggedRecord(*log_->Record(*seqs[6]));
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(FingerprintOf(std::get<AcceptedRecord>(*accepted)), FingerprintOf(view));
}

TEST_F(AuditorTest, DecodeLoggedRecordRefusesWhatIsNotARecord) {
  EXPECT_EQ(DecodeLoggedRecord("not json").status().reason(), "AUDIT_BAD_JSON");
  EXPECT_EQ(DecodeLoggedRecord(R"({"node":"usa-1"})").status().reason(), "AUDIT_RECORD_MALFORMED");
  EXPECT_EQ(DecodeLoggedRecord(R"({"seq":0,"time":1,"type":"denied","report_id":"00"})")
                .status()
                .reason(),
            "AUDIT_RECORD_MALFORMED");
  EXPECT_EQ(DecodeLoggedRecord(R"({"seq":0,"time":1,"type":"newer_kind"})").status().code(),
            Code::kNotFound);
}

TEST_F(AuditorTest, OrphanScanSkipsAnAcceptedRecordThatDoesNotDecode) {
  // An `accepted` line without its portions names no content a retry could be matched with.
  ASSERT_TRUE(log_->Append("accepted", {{"report_id", "01"}, {"originator", "usa-1"}}).ok());
  ASSERT_TRUE(log_->Append("rejected_input",
                           {{"node", "usa-1"}, {"reason", "X"}, {"explanation", "not accepted"}})
                  .ok());
  auto orphans = Auditor::FindOrphanedAccepts(*log_, *store_);
  ASSERT_TRUE(orphans.ok()) << orphans.status().ToString();
  EXPECT_TRUE(orphans->empty());
}

}  // namespace
}  // namespace tearline::broker
