#include "tearline/cli/command_line.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace tearline::cli {
namespace {

struct Parsed {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
  std::string name;
};

// A small program: `demo greet --name NAME`.
Parsed Parse(std::vector<std::string> args) {
  CLI::App app{"Demo program", "tearline-demo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  Parsed p;
  auto* greet = app.add_subcommand("greet", "Say hello");
  greet->add_option("--name", p.name, "Who")->required();
  args.insert(args.begin(), "tearline-demo");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  p.exit_code = ParseCommandLine(app, static_cast<int>(argv.size()), argv.data(), out, err);
  p.out = out.str();
  p.err = err.str();
  return p;
}

TEST(CommandLineTest, ValidArgumentsLetTheProgramGoOn) {
  auto p = Parse({"greet", "--name", "GBR"});
  EXPECT_EQ(p.exit_code, std::nullopt);
  EXPECT_EQ(p.name, "GBR");
  EXPECT_TRUE(p.out.empty());
  EXPECT_TRUE(p.err.empty());
}

TEST(CommandLineTest, HelpGoesToStdoutAndExitsZero) {
  auto help = Parse({"--help"});
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_NE(help.out.find("greet"), std::string::npos) << help.out;
  EXPECT_TRUE(help.err.empty());
  auto all = Parse({"--help-all"});
  EXPECT_EQ(all.exit_code, kExitOk);
  EXPECT_NE(all.out.find("--name"), std::string::npos) << all.out;
}

TEST(CommandLineTest, UsageErrorsAreOneLineAndExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"greet"}, {"frobnicate"}, {"greet", "--name", "A", "--bogus"}}) {
    auto p = Parse(args);
    EXPECT_EQ(p.exit_code, kExitInvalid) << ::testing::PrintToString(args);
    EXPECT_TRUE(p.out.empty());
    EXPECT_EQ(p.err.rfind("tearline-demo: error: USAGE: ", 0), 0u) << p.err;
    EXPECT_NE(p.err.find("(see --help)\n"), std::string::npos) << p.err;
    EXPECT_EQ(p.err.find('\n'), p.err.size() - 1) << p.err;
  }
}

TEST(CommandLineTest, ErrorsAreFlattenedToOneLine) {
  EXPECT_EQ(OneLine("a\nb\r\nc"), "a b  c");
  std::ostringstream err;
  PrintError(err, "tearline-x", InvalidArgument("BAD_THING", "first\nsecond"));
  EXPECT_EQ(err.str(), "tearline-x: error: BAD_THING: first second\n");
  std::ostringstream plain;
  PrintError(plain, "tearline-x", std::string_view("no reason\nhere"));
  EXPECT_EQ(plain.str(), "tearline-x: error: no reason here\n");
}

TEST(CommandLineTest, FailPrintsAndReturnsTheExitCode) {
  std::ostringstream err;
  EXPECT_EQ(Fail(err, "tearline-x", InvalidArgument("R", "m")), kExitInvalid);
  EXPECT_EQ(Fail(err, "tearline-x", InvalidArgument("R", "m"), kExitNegative), kExitNegative);
  EXPECT_EQ(err.str(), "tearline-x: error: R: m\ntearline-x: error: R: m\n");
}

TEST(CommandLineTest, ExitCodesAreDistinctAndStable) {
  // Scripts depend on these numbers; changing one is a breaking change.
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitNegative, 1);
  EXPECT_EQ(kExitInvalid, 2);
  EXPECT_EQ(kExitPending, 3);
}

}  // namespace
}  // namespace tearline::cli
