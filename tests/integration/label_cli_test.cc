// Drives the real tearline-label binary, as scripts and the demo do.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace tearline {
namespace {

using testing::BinaryPath;
using testing::RunProcess;

testing::ProcessResult LabelTool(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("tearline-label").string());
  return RunProcess(args, std::chrono::seconds(20));
}

TEST(LabelCliTest, ParseCheckRollupThroughTheBinary) {
  auto parse = LabelTool({"parse", "SECRET//REL TO GBR, USA, AUS"});
  ASSERT_FALSE(parse.timed_out);
  EXPECT_EQ(parse.exit_code, 0) << parse.err;
  EXPECT_EQ(parse.out, "SECRET//REL TO USA, AUS, GBR\n");

  auto deny = LabelTool({"check", "SECRET//REL TO USA, FVEY", "--to", "JPN"});
  EXPECT_EQ(deny.exit_code, 1);
  EXPECT_EQ(deny.out.rfind("DENY NOT_RELEASABLE: ", 0), 0u);

  auto rel = LabelTool({"check", "SECRET//REL TO USA, FVEY", "--to", "NZL", "--json"});
  EXPECT_EQ(rel.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(rel.out)["decision"], "RELEASE");

  auto roll = LabelTool({"rollup", "(S//NF)", "(S//REL TO USA, GBR)"});
  EXPECT_EQ(roll.exit_code, 0);
  EXPECT_EQ(roll.out, "SECRET//NOFORN\n");
}

TEST(LabelCliTest, UsesShippedPolicyByDefaultAndHonoursPolicyFlag) {
  // No --policy: the shipped coalition policy knows QUAD.
  auto quad = LabelTool({"check", "SECRET//REL TO QUAD", "--to", "IND"});
  EXPECT_EQ(quad.exit_code, 0) << quad.err;
  auto missing = LabelTool({"parse", "SECRET", "--policy", "/nonexistent/policy.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("POLICY_NOT_FOUND"), std::string::npos) << missing.err;
}

TEST(LabelCliTest, InvalidMarkingExitsTwo) {
  auto bad = LabelTool({"parse", "SECRET//NOFORN/REL TO USA, GBR"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("LABEL_NOFORN_WITH_REL_TO"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty());
}

}  // namespace
}  // namespace tearline
