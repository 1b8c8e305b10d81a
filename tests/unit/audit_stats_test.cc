#include "tearline/tools/audit_stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tearline/audit/audit_record_types.h"
#include "tearline/audit/audit_records.h"

namespace tearline::tools {
namespace {

// A crafted log: records as the broker writes them, at chosen times.
class AuditStatsTest : public ::testing::Test {
 protected:
  static AcceptedPortion Portion(std::uint32_t index, const std::string& label) {
    AcceptedPortion p;
    p.index = index;
    p.label = label;
    return p;
  }
  void Add(double time, const AnyAuditRecord& record) {
    nlohmann::json j = ToJson(record);
    j["seq"] = records_.size();
    j["time"] = time;
    j["type"] = std::string(AuditRecordTypeName(record));
    // Through the auditor's own line reader, as `tearline-audit report` reads a log.
    std::optional<AuditLoadError> error;
    std::vector<AuditRecord> parsed = ParseAuditLog(j.dump() + "\n", error);
    ASSERT_FALSE(error.has_value()) << error->status.message();
    ASSERT_EQ(parsed.size(), 1u);
    parsed[0].line = records_.size() + 1;
    records_.push_back(std::move(parsed[0]));
  }
  void Accepted(double time, const std::string& id, const std::string& nation) {
    AcceptedRecord a;
    a.report_id = id;
    a.originator = "node-" + nation;
    a.originator_nation = nation;
    a.portions = {Portion(0, "(S//REL TO USA, GBR, JPN)")};
    a.policy_sha256 = std::string(64, '0');
    Add(time, a);
  }
  void Delivered(double time, const std::string& id, const std::string& recipient,
                 const std::string& nation) {
    DeliveredRecord d;
    d.report_id = id;
    d.recipient = recipient;
    d.nation = nation;
    d.clearance = "SECRET";
    d.portions = {{0, "(S//REL TO USA, GBR, JPN)"}};
    Add(time, d);
  }
  void Requested(double time, const std::string& request, const std::string& report,
                 const std::string& to) {
    Add(time, ReleaseRequestedRecord{request, report, 0, "usa-1", "jpn-1", "JPN", to, "why"});
  }
  template <typename Record>
  void Decided(double time, const std::string& request, const std::string& decision) {
    Record r;
    r.request_id = request;
    r.decision = decision;
    if (decision == "denied") r.explanation = "source protection";
    Add(time, r);
  }

  std::vector<AuditRecord> records_;
};

TEST_F(AuditStatsTest, TurnaroundIsNearestRank) {
  EXPECT_EQ(SummariseTurnaround({}).count, 0u);
  const Turnaround one = SummariseTurnaround({2.5});
  EXPECT_EQ(one.p50, 2.5);
  EXPECT_EQ(one.p90, 2.5);
  EXPECT_EQ(one.max, 2.5);
  const Turnaround ten = SummariseTurnaround({10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  EXPECT_EQ(ten.count, 10u);
  EXPECT_EQ(ten.p50, 5);
  EXPECT_EQ(ten.p90, 9);
  EXPECT_EQ(ten.max, 10);
}

TEST_F(AuditStatsTest, DeliveryTurnaroundPerNationPair) {
  Accepted(100, "r1", "USA");
  Delivered(101, "r1", "gbr-1", "GBR");
  Delivered(103, "r1", "jpn-1", "JPN");
  Delivered(150, "r1", "gbr-1", "GBR");  // A re-send: counted once.
  Accepted(200, "r2", "USA");
  Delivered(204, "r2", "gbr-1", "GBR");
  Accepted(300, "r3", "GBR");
  Delivered(310, "r3", "usa-1", "USA");
  const AuditStats s = ComputeAuditStats(records_, nullptr);
  ASSERT_EQ(s.delivery_by_pair.size(), 3u);
  const Turnaround usa_gbr = SummariseTurnaround(s.delivery_by_pair.at("USA -> GBR"));
  EXPECT_EQ(usa_gbr.count, 2u);
  EXPECT_EQ(usa_gbr.p50, 1);
  EXPECT_EQ(usa_gbr.max, 4);
  EXPECT_EQ(SummariseTurnaround(s.delivery_by_pair.at("USA -> JPN")).max, 3);
  EXPECT_EQ(SummariseTurnaround(s.delivery_by_pair.at("GBR -> USA")).p90, 10);
  EXPECT_EQ(s.latencies.size(), 4u);
  EXPECT_EQ(s.matrix.at("USA").at("GBR"), 2u);
}

TEST_F(AuditStatsTest, ReleaseTurnaroundAndOutcomesPerPair) {
  Accepted(100, "r1", "USA");
  Requested(110, "q1", "r1", "KOR");
  Requested(111, "q2", "r1", "KOR");
  Requested(112, "q3", "r1", "AUS");
  Decided<ReleaseAutoApprovedRecord>(110.5, "q1", "approved");
  Decided<ReleaseDecidedRecord>(131, "q2", "denied");
  Decided<ReleaseSanitisedRecord>(172, "q3", "approved");
  Decided<ReleaseDecidedRecord>(180, "q3", "approved");  // Replayed: the first decision counts.
  const AuditStats s = ComputeAuditStats(records_, nullptr);
  const ReleasePairStats& kor = s.releases.at("USA -> KOR");
  EXPECT_EQ(kor.requested, 2u);
  EXPECT_EQ(kor.approved, 1u);
  EXPECT_EQ(kor.automatic, 1u);
  EXPECT_EQ(kor.denied, 1u);
  const Turnaround t = SummariseTurnaround(kor.turnaround);
  EXPECT_EQ(t.p50, 0.5);
  EXPECT_EQ(t.max, 20);
  const ReleasePairStats& aus = s.releases.at("USA -> AUS");
  EXPECT_EQ(aus.sanitised, 1u);
  EXPECT_EQ(SummariseTurnaround(aus.turnaround).max, 60);
  EXPECT_EQ(s.release_denials.at("source protection"), 1u);
}

TEST_F(AuditStatsTest, ForwardsPerPairAndTheirDeliveries) {
  Accepted(100, "r1", "USA");
  Delivered(101, "r1", "gbr-1", "GBR");
  ForwardedRecord f;
  f.forward_id = "f1";
  f.report_id = "r1";
  f.originator = "usa-1";
  f.originator_nation = "USA";
  f.forwarder = "gbr-1";
  f.forwarder_nation = "GBR";
  f.target_nation = "AUS";
  f.policy_sha256 = std::string(64, '0');
  Add(120, f);
  Delivered(123, "f1", "aus-1", "AUS");
  ForwardRefusedRecord refused;
  refused.node = "gbr-1";
  refused.target_nation = "KOR";
  refused.reason = "FORWARD_ORCON";
  refused.explanation = "ORCON";
  Add(130, refused);
  refused.reason = "FORWARD_NOT_RELEASABLE";
  Add(131, refused);
  refused.node = "xyz-9";  // Never delivered to: its nation is unknown.
  refused.target_nation.reset();
  refused.reason = "WIRE_MALFORMED";
  Add(132, refused);
  const AuditStats s = ComputeAuditStats(records_, nullptr);
  EXPECT_EQ(s.forwards.at("GBR -> AUS").forwarded, 1u);
  EXPECT_EQ(s.forwards.at("GBR -> AUS").refused, 0u);
  const ForwardPairStats& kor = s.forwards.at("GBR -> KOR");
  EXPECT_EQ(kor.refused, 2u);
  EXPECT_EQ(kor.refused_by_reason.at("FORWARD_ORCON"), 1u);
  EXPECT_EQ(s.forwards.at("? -> ?").refused_by_reason.at("WIRE_MALFORMED"), 1u);
  // The forwarded copy's delivery is timed from the forward, under the originator's nation.
  EXPECT_EQ(SummariseTurnaround(s.delivery_by_pair.at("USA -> AUS")).max, 3);
}

TEST_F(AuditStatsTest, DerivedPortionsCountContributorsKeptAndOverrides) {
  AcceptedRecord a;
  a.report_id = "r1";
  a.originator = "usa-1";
  a.originator_nation = "USA";
  a.policy_sha256 = std::string(64, '0');
  AcceptedPortion plain = Portion(0, "(S//REL TO USA, GBR)");
  AcceptedPortion kept = plain;
  kept.index = 1;
  kept.sources = std::vector<std::string>{"aa/0", "bb/1"};
  kept.contributors = std::vector<std::string>{"GBR", "JPN"};
  AcceptedPortion overridden = plain;
  overridden.index = 2;
  overridden.label = "(S//NF)";
  overridden.sources = std::vector<std::string>{"aa/0"};
  overridden.contributors = std::vector<std::string>{"GBR"};
  overridden.provenance_override = "source protection";
  a.portions = {plain, kept, overridden};
  Add(100, a);
  a.report_id = "r2";
  a.portions = {overridden};
  Add(101, a);
  a.report_id = "r3";
  a.originator_nation = "GBR";
  a.portions = {plain};  // Nothing derived: no row for GBR.
  Add(102, a);
  const AuditStats s = ComputeAuditStats(records_, nullptr);
  ASSERT_EQ(s.provenance.size(), 1u);
  const ProvenanceStats& usa = s.provenance.at("USA");
  EXPECT_EQ(usa.derived_portions, 3u);
  // Without the policy: a portion without an override keeps every contributor (the broker
  // refuses an exclusion without one); an overridden one counts its contributors as excluded.
  EXPECT_EQ(usa.contributors_kept, 2u);
  EXPECT_EQ(usa.contributors_excluded, 2u);
  EXPECT_EQ(usa.overrides, 2u);
  EXPECT_EQ(usa.override_reasons.at("source protection"), 2u);
}

}  // namespace
}  // namespace tearline::tools
