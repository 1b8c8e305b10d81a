// Tests for CheckAuditSignedFiles, the signed-files half of audit verification: given the roots
// of the records (as VerifyAuditDirectory computes them) it checks checkpoints, cosignatures,
// witnesses and the broker certificate, and returns every failure it finds, each naming its file.
#include "tearline/audit/audit_signed_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "audit_dir_builder.h"
#include "tearline/audit/audit_log.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::AuditDirBuilder;
using testing::WriteText;

std::vector<Hash> LeavesOf(const AuditDirBuilder& b) {
  std::vector<Hash> leaves;
  for (const std::string& line : b.Lines()) {
    leaves.push_back(LeafHash(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(line.data()), line.size())));
  }
  return leaves;
}

std::vector<AuditFailure> Check(const AuditDirBuilder& b, AuditVerifyResult& result,
                                std::vector<Hash> leaves) {
  AuditVerifyOptions options;
  options.dir = b.dir();
  PrefixRoots roots(leaves);
  const double log_time =
      static_cast<double>(testing::kAuditBaseTime) + 1.5 * static_cast<double>(b.size());
  return CheckAuditSignedFiles(options, roots, log_time, {}, result);
}

TEST(AuditSignedFilesTest, AnIntactDirectoryHasNoFailureAndIsCounted) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}, {9, "gbr-node"}});
  AuditVerifyResult result;
  const auto failures = Check(b, result, LeavesOf(b));
  EXPECT_TRUE(failures.empty()) << failures.front().ToString();
  EXPECT_EQ(result.checkpoints, b.size());
  EXPECT_EQ(result.cosignatures, 2u);
  EXPECT_EQ(result.witnesses, (std::vector<std::string>{"gbr-node", "usa-node"}));
  EXPECT_EQ(result.origin, testing::kAuditOrigin);
}

// The checkpoints are judged against the roots it is given: records that differ from what was
// signed fail at the checkpoints that cover them, and only there.
TEST(AuditSignedFilesTest, RootsThatDifferFromTheSignedOnesAreNamedAsARange) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({4, 8, 12});
  std::vector<Hash> leaves = LeavesOf(b);
  leaves[5][0] ^= 1;  // Record 6 (line 6) is not what was signed.
  AuditVerifyResult result;
  const auto failures = Check(b, result, leaves);
  ASSERT_FALSE(failures.empty());
  bool named = false;
  for (const AuditFailure& f : failures) {
    EXPECT_GE(f.last_line, 6u) << f.ToString();  // Nothing before the altered record fails.
    if (f.line != 0 && f.line <= 6 && f.last_line >= 6) named = true;
  }
  EXPECT_TRUE(named) << failures.front().ToString();
}

// Each file failure names its file: a missing log key stops the check, a cosignature file that
// does not verify is named without hiding the rest.
TEST(AuditSignedFilesTest, FileFailuresNameTheirFile) {
  {
    AuditDirBuilder b;
    b.StandardStory();
    b.Finish();
    fs::remove(b.dir() / "log.pub");
    AuditVerifyResult result;
    const auto failures = Check(b, result, LeavesOf(b));
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].file, "log.pub");
  }
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  WriteText(b.dir() / "cosignatures" / "9.gbr-node", "not a cosignature\n");
  AuditVerifyResult result;
  const auto failures = Check(b, result, LeavesOf(b));
  ASSERT_FALSE(failures.empty());
  bool named = false;
  for (const AuditFailure& f : failures) named |= f.file.find("9.gbr-node") != std::string::npos;
  EXPECT_TRUE(named) << failures.front().ToString();
}

}  // namespace
}  // namespace tearline
