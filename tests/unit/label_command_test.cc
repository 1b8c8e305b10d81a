#include "tearline/tools/label_command.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace tearline::tools {
namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run Label(std::vector<std::string> args) {
  args.insert(args.begin(), "tearline-label");
  args.push_back("--policy");
  args.push_back(testing::SourcePath("deploy/policy/coalition.toml").string());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  int code = RunLabelCommand(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

TEST(LabelCommandTest, ParsePrintsCanonicalInSameForm) {
  auto r = Label({"parse", "SECRET//REL TO GBR, USA, AUS"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "SECRET//REL TO USA, AUS, GBR\n");
  EXPECT_EQ(Label({"parse", "(ts//nf/oc)"}).out, "(TS//OC/NF)\n");
}

TEST(LabelCommandTest, ParseJson) {
  auto r = Label({"parse", "(S//REL TO USA, FVEY)", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["banner"], "SECRET//REL TO USA, FVEY");
  EXPECT_EQ(j["marking"], "(S//REL TO USA, FVEY)");
  EXPECT_EQ(j["classification"], "SECRET");
  EXPECT_EQ(j["noforn"], false);
  EXPECT_EQ(j["orcon"], false);
  EXPECT_EQ(j["releasable_to"], nlohmann::json({"AUS", "CAN", "GBR", "NZL", "USA"}));
  auto u = nlohmann::json::parse(Label({"parse", "(U)", "--json"}).out);
  EXPECT_TRUE(u["releasable_to"].is_null());
  auto nf = nlohmann::json::parse(Label({"parse", "TOP SECRET//NOFORN", "--json"}).out);
  EXPECT_EQ(nf["releasable_to"], nlohmann::json::array());
  EXPECT_EQ(nf["noforn"], true);
  auto bare = nlohmann::json::parse(Label({"parse", "SECRET", "--json"}).out);
  EXPECT_EQ(bare["releasable_to"], nlohmann::json::array());
}

TEST(LabelCommandTest, CheckReleaseAndDeny) {
  auto ok = Label({"check", "SECRET//REL TO USA, FVEY", "--to", "NZL"});
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.out, "RELEASE\n");
  auto deny = Label({"check", "SECRET//REL TO USA, FVEY", "--to", "JPN"});
  EXPECT_EQ(deny.code, 1);
  EXPECT_EQ(deny.out.rfind("DENY NOT_RELEASABLE: ", 0), 0u) << deny.out;
  auto clear = Label({"check", "TS//REL TO USA, GBR", "--to", "GBR", "--clearance", "SECRET"});
  EXPECT_EQ(clear.code, 1);
  EXPECT_EQ(clear.out.rfind("DENY ABOVE_CLEARANCE: ", 0), 0u);
  auto orig = Label({"check", "S//NF", "--to", "usa", "--originator", "USA"});
  EXPECT_EQ(orig.code, 0);
  auto none = Label({"check", "SECRET", "--to", "GBR", "--originator", "USA"});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.out.rfind("DENY NO_RELEASABILITY_MARKING: ", 0), 0u);
}

TEST(LabelCommandTest, CheckJson) {
  auto r = Label({"check", "SECRET//REL TO USA, FVEY", "--to", "JPN", "--json"});
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["decision"], "DENY");
  EXPECT_EQ(j["reason"], "NOT_RELEASABLE");
  EXPECT_FALSE(j["explanation"].get<std::string>().empty());
  EXPECT_EQ(j["banner"], "SECRET//REL TO USA, FVEY");
  auto ok = nlohmann::json::parse(Label({"check", "(U)", "--to", "KOR", "--json"}).out);
  EXPECT_EQ(ok["decision"], "RELEASE");
  EXPECT_TRUE(ok["reason"].is_null());
}

TEST(LabelCommandTest, Rollup) {
  EXPECT_EQ(Label({"rollup", "(S//NF)", "(S//REL TO USA, GBR)"}).out, "SECRET//NOFORN\n");
  EXPECT_EQ(Label({"rollup", "(U)", "(S//REL TO USA, GBR)"}).out, "SECRET//REL TO USA, GBR\n");
  auto j = nlohmann::json::parse(Label({"rollup", "(U)", "(S//REL TO USA, GBR)", "--json"}).out);
  EXPECT_EQ(j["releasable_to"], nlohmann::json({"GBR", "USA"}));
}

TEST(LabelCommandTest, InvalidInputExitsTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"parse", "SECRET//NOFORN/REL TO USA, GBR"},
      {"parse", "SECRET//REL TO USA, XYZ"},
      {"parse", ""},
      {"check", "SECRET//REL TO USA", "--to", "XYZ"},
      {"check", "SECRET//REL TO USA"},  // --to missing
      {"check", "SECRET//REL TO USA", "--to", "GBR", "--clearance", "COSMIC"},
      {"check", "SECRET//REL TO USA", "--to", "GBR", "--originator", "QQQ"},
      {"rollup", "(S//NF)", "(Q)"},
      {"frobnicate"},
      {},
  };
  for (const auto& c : cases) {
    auto r = Label(c);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(c);
    EXPECT_TRUE(r.out.empty()) << r.out;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_EQ(r.err.rfind("tearline-label: error: ", 0), 0u) << r.err;
  }
}

TEST(LabelCommandTest, BrokenPolicyFileIsReported) {
  testing::TempDir dir;
  std::ofstream(dir / "p.toml") << "[policy]\nname = \"x\"\n[[classification]\n";
  std::vector<std::string> args = {"tearline-label", "parse", "SECRET", "--policy",
                                   (dir / "p.toml").string()};
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  EXPECT_EQ(RunLabelCommand(static_cast<int>(argv.size()), argv.data(), out, err), 2);
  EXPECT_NE(err.str().find("p.toml:3"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace tearline::tools
