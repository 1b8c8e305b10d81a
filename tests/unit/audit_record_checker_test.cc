// Tests for AuditRecordChecker, the record-by-record half of audit verification: records are
// fed one at a time, in order, as VerifyAuditDirectory feeds them, and each broken rule is named
// at its record. (audit_verify_test covers the same rules through the whole directory.)
#include "tearline/audit/audit_record_checker.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "audit_dir_builder.h"
#include "tearline/audit/audit_log.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::AuditDirBuilder;

// Feeds every record of the builder's log (as written by Finish) to a checker; returns the
// first failure, with `records` set to how many records were checked up to and including it.
struct Fed {
  AuditVerifyResult result;
  std::optional<AuditFailure> failure;
  std::uint64_t records = 0;
  std::size_t decisions = 0;
};

Fed FeedAll(const AuditDirBuilder& b, std::uint64_t index_offset = 0) {
  Fed fed;
  auto text = ReadAuditLogText(b.dir());
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return fed;
  AuditRecordChecker checker(b.dir(), fed.result);
  AuditLogReader reader(*text);
  AuditRecord record;
  while (reader.Next(record)) {
    ++fed.records;
    fed.failure = checker.CheckNext(record, fed.records - 1 + index_offset);
    if (fed.failure) break;
  }
  EXPECT_FALSE(reader.error().has_value());
  fed.decisions = checker.decisions().size();
  return fed;
}

TEST(AuditRecordCheckerTest, TheStandardStoryPassesAndIsCounted) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  const Fed fed = FeedAll(b);
  ASSERT_FALSE(fed.failure.has_value()) << fed.failure->ToString();
  EXPECT_EQ(fed.records, b.size());
  EXPECT_EQ(fed.result.deliveries_checked, 3u);
  EXPECT_GE(fed.result.portions_checked, fed.result.deliveries_checked);
  EXPECT_EQ(fed.result.policy_name, "tearline-coalition");
  EXPECT_EQ(fed.decisions, 0u);
}

// Indexes are the caller's count: a record whose seq is not its index was moved, deleted or
// inserted, and the very first record names it.
TEST(AuditRecordCheckerTest, ASeqThatIsNotTheIndexIsNamedAtOnce) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  const Fed fed = FeedAll(b, /*index_offset=*/1);
  ASSERT_TRUE(fed.failure.has_value());
  EXPECT_EQ(fed.failure->reason, "AUDIT_SEQ_MISMATCH");
  EXPECT_EQ(fed.failure->line, 1u);
  EXPECT_EQ(fed.records, 1u);
}

// A delivery of a report no earlier record accepted is named at the delivery, after the records
// before it passed.
TEST(AuditRecordCheckerTest, ADeliveryWithoutAnAcceptIsNamedAtItsRecord) {
  AuditDirBuilder b;
  b.StandardStory();
  const std::uint64_t line = b.size() + 1;
  b.Add("delivered",
        AuditDirBuilder::Delivery(std::string(32, 'e'), "usa-node", "USA", "gbr-node", "GBR",
                                  {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}}));
  b.Finish();
  const Fed fed = FeedAll(b);
  ASSERT_TRUE(fed.failure.has_value());
  EXPECT_EQ(fed.failure->reason, "DELIVERY_WITHOUT_ACCEPT") << fed.failure->ToString();
  EXPECT_EQ(fed.failure->line, line);
  EXPECT_EQ(fed.records, line);
}

// A type this version does not know is skipped, so a newer broker's log still verifies; a known
// type must decode.
TEST(AuditRecordCheckerTest, UnknownTypesAreSkippedKnownTypesMustDecode) {
  {
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("written_by_a_newer_broker", {{"anything", 1}});
    b.Finish();
    const Fed fed = FeedAll(b);
    EXPECT_FALSE(fed.failure.has_value()) << fed.failure->ToString();
  }
  AuditDirBuilder b;
  b.StandardStory();
  const std::uint64_t line = b.size() + 1;
  b.Add("expired", {{"report_id", 7}});
  b.Finish();
  const Fed fed = FeedAll(b);
  ASSERT_TRUE(fed.failure.has_value());
  EXPECT_EQ(fed.failure->line, line);
  EXPECT_NE(fed.failure->reason, "");
}

// Release records are bookkeeping here: a decision that answers no request is named at once,
// with no certificate needed (its signature is checked later, from decisions()).
TEST(AuditRecordCheckerTest, ADecisionWithoutARequestIsNamedBeforeAnySignatureCheck) {
  AuditDirBuilder b;
  b.StandardStory();
  const std::uint64_t line = b.size() + 1;
  b.Add("release_decided", {{"request_id", std::string(32, '5')},
                            {"report_id", testing::kAuditReport1},
                            {"portion", 0},
                            {"originator", "usa-node"},
                            {"requester", "gbr-node"},
                            {"to_nation", "JPN"},
                            {"decision", "approved"},
                            {"label", "(S//REL TO USA, JPN)"},
                            {"release_report_id", std::string(32, '6')},
                            {"requested", testing::kAuditBaseTime},
                            {"signature", std::string(128, '0')},
                            {"decision_body", "AAAA"}});
  b.Finish();
  const Fed fed = FeedAll(b);
  ASSERT_TRUE(fed.failure.has_value());
  EXPECT_EQ(fed.failure->line, line) << fed.failure->ToString();
  EXPECT_EQ(fed.failure->reason, "AUDIT_RELEASE_WITHOUT_REQUEST") << fed.failure->ToString();
  EXPECT_EQ(fed.decisions, 0u);
}

}  // namespace
}  // namespace tearline
