#include "tearline/labels/policy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

constexpr const char* kMinimal = R"(
[policy]
name = "mini"
version = "1"
[[classification]]
name = "UNCLASSIFIED"
abbrev = "U"
[[classification]]
name = "TOP SECRET"
abbrev = "TS"
[nations]
AAA = "A"
BBB = "B"
CCC = "C"
[groups.TWO]
members = ["AAA", "BBB"]
[groups.ALL]
members = ["TWO", "CCC"]
)";

TEST(PolicyTest, ShippedPolicyDefinesLevelsInOrder) {
  const Policy& p = CoalitionPolicy();
  ASSERT_EQ(p.levels().size(), 5u);
  EXPECT_EQ(p.levels()[0].name, "UNCLASSIFIED");
  EXPECT_EQ(p.levels()[1].abbrev, "R");
  EXPECT_EQ(p.levels()[2].name, "CONFIDENTIAL");
  EXPECT_EQ(p.levels()[3].abbrev, "S");
  EXPECT_EQ(p.levels()[4].name, "TOP SECRET");
  EXPECT_EQ(p.FindLevel("top   secret"), 4);
  EXPECT_EQ(p.FindLevel("ts"), 4);
  EXPECT_EQ(p.FindLevel(" Secret "), 3);
  EXPECT_EQ(p.FindLevel("COSMIC"), std::nullopt);
}

TEST(PolicyTest, ShippedPolicyDefinesRequiredNations) {
  const Policy& p = CoalitionPolicy();
  for (const char* n : {"USA", "GBR", "CAN", "AUS", "NZL", "JPN", "KOR", "DEU", "FRA", "ITA", "NLD",
                        "NOR", "DNK", "BEL", "ESP", "SWE", "IND", "PHL", "TWN"}) {
    EXPECT_TRUE(p.IsNation(n)) << n;
  }
  EXPECT_FALSE(p.IsNation("XXX"));
  EXPECT_FALSE(p.IsNation("usa"));
}

TEST(PolicyTest, ShippedPolicyGroupsExpand) {
  const Policy& p = CoalitionPolicy();
  using S = std::set<std::string>;
  EXPECT_EQ(p.FindGroup("FVEY")->members, (S{"USA", "AUS", "CAN", "GBR", "NZL"}));
  EXPECT_EQ(p.FindGroup("ACGU")->members, (S{"USA", "AUS", "CAN", "GBR"}));
  EXPECT_EQ(p.FindGroup("TEYE")->members, (S{"USA", "CAN", "GBR"}));
  EXPECT_EQ(p.FindGroup("AUKUS")->members, (S{"AUS", "GBR", "USA"}));
  EXPECT_EQ(p.FindGroup("QUAD")->members, (S{"USA", "JPN", "AUS", "IND"}));
  EXPECT_EQ(p.FindGroup("MILFWK")->members, (S{"USA", "AUS", "CAN", "GBR", "NZL", "BEL", "DNK",
                                               "FRA", "DEU", "ITA", "JPN", "NLD", "NOR", "ESP"}));
  EXPECT_EQ(p.FindGroup("MILFWK")->members.size(), 14u);
  const Group* nato = p.FindGroup("NATO");
  ASSERT_NE(nato, nullptr);
  EXPECT_EQ(nato->members.size(), 32u);
  EXPECT_TRUE(nato->members.contains("SWE"));
  EXPECT_TRUE(nato->members.contains("FIN"));
  EXPECT_FALSE(nato->members.contains("JPN"));
  EXPECT_EQ(p.FindGroup("GSOMIA"), nullptr);
  ASSERT_EQ(p.listed_first().size(), 1u);
  EXPECT_EQ(p.listed_first()[0], "USA");
}

TEST(PolicyTest, DigestIsSha256OfBytes) {
  auto p = Policy::Parse(kMinimal, "mini.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->digest_hex().size(), 64u);
  auto q = Policy::Parse(std::string(kMinimal) + "\n", "mini.toml");
  ASSERT_TRUE(q.ok());
  EXPECT_NE(p->digest_hex(), q->digest_hex());
  auto empty = Policy::Parse("", "x");
  EXPECT_FALSE(empty.ok());
}

TEST(PolicyTest, MaxExpiryDays) {
  auto defaulted = Policy::Parse(kMinimal, "mini.toml");
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().ToString();
  EXPECT_EQ(defaulted->max_expiry_seconds(), Policy::kDefaultMaxExpiryDays * 86400);
  EXPECT_EQ(CoalitionPolicy().max_expiry_seconds(), 366 * 86400);
  const auto with = [](const std::string& line) {
    std::string text = kMinimal;
    const std::string version = "version = \"1\"\n";
    text.replace(text.find(version), version.size(), version + line + "\n");
    return Policy::Parse(text, "mini.toml");
  };
  auto thirty = with("max_expiry_days = 30");
  ASSERT_TRUE(thirty.ok()) << thirty.status().ToString();
  EXPECT_EQ(thirty->max_expiry_seconds(), 30 * 86400);
  for (const char* bad : {"max_expiry_days = 0", "max_expiry_days = 3661",
                          "max_expiry_days = \"30\"", "max_expiry_days = 1.5"}) {
    auto p = with(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().reason(), "POLICY_INVALID") << bad;
    EXPECT_NE(p.status().message().find("max_expiry_days"), std::string::npos) << bad;
  }
}

TEST(PolicyTest, NestedGroupsExpandTransitively) {
  auto p = Policy::Parse(kMinimal, "mini.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->FindGroup("ALL")->members, (std::set<std::string>{"AAA", "BBB", "CCC"}));
  EXPECT_EQ(p->name(), "mini");
  EXPECT_EQ(p->version(), "1");
}

struct BrokenCase {
  const char* name;
  std::string text;
  const char* expect_in_message;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

TEST(PolicyTest, BrokenPolicyNamesFileLineAndCause) {
  const std::vector<BrokenCase> cases = {
      {"syntax", Replace(kMinimal, "AAA = \"A\"", "AAA = "), "mini.toml:12:"},
      {"unknown member", Replace(kMinimal, "[\"AAA\", \"BBB\"]", "[\"AAA\", \"ZZZ\"]"),
       "unknown member 'ZZZ'"},
      {"cycle", Replace(kMinimal, "[\"AAA\", \"BBB\"]", "[\"ALL\"]"), "cycle"},
      {"bad trigraph", Replace(kMinimal, "CCC = \"C\"", "CCCC = \"C\""), "not an upper-case"},
      {"typo table", Replace(kMinimal, "[nations]", "[natons]"), "unknown top-level key 'natons'"},
      {"lower level", Replace(kMinimal, "name = \"TOP SECRET\"", "name = \"top secret\""),
       "upper-case words"},
      {"duplicate level", Replace(kMinimal, "abbrev = \"TS\"", "abbrev = \"U\""), "defined twice"},
      {"group collides", Replace(kMinimal, "[groups.TWO]", "[groups.AAA]"), "collides"},
      {"empty group", Replace(kMinimal, "[\"AAA\", \"BBB\"]", "[]"), "non-empty"},
      {"no policy", Replace(kMinimal, "[policy]\nname = \"mini\"", "[policy]"), "name"},
  };
  for (const auto& c : cases) {
    auto p = Policy::Parse(c.text, "mini.toml");
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().reason(), "POLICY_INVALID") << c.name;
    EXPECT_NE(p.status().message().find("mini.toml"), std::string::npos) << c.name;
    EXPECT_NE(p.status().message().find(c.expect_in_message), std::string::npos)
        << c.name << ": " << p.status().message();
  }
}

TEST(PolicyTest, SemanticErrorsCarryLineNumber) {
  auto p = Policy::Parse(Replace(kMinimal, "[\"AAA\", \"BBB\"]", "[\"AAA\", \"ZZZ\"]"), "f.toml");
  ASSERT_FALSE(p.ok());
  // [groups.TWO] starts on line 15 of kMinimal.
  EXPECT_NE(p.status().message().find("f.toml:15:"), std::string::npos) << p.status().message();
}

TEST(PolicyTest, LoadFileErrors) {
  testing::TempDir dir;
  auto missing = Policy::LoadFile((dir / "nope.toml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "POLICY_NOT_FOUND");
  EXPECT_NE(missing.status().message().find("nope.toml"), std::string::npos);

  std::ofstream(dir / "bad.toml") << "[policy\n";
  auto bad = Policy::LoadFile((dir / "bad.toml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.toml:1"), std::string::npos) << bad.status().message();
}

// A chain of `depth` groups, each holding the next; the last holds a nation.
std::string GroupChain(int depth) {
  std::string text(kMinimal);
  text += "[groups]\n";
  for (int i = 0; i < depth; ++i) {
    text += "G" + std::to_string(i) + "={members=[\"" +
            (i + 1 < depth ? "G" + std::to_string(i + 1) : std::string("AAA")) + "\"]}\n";
  }
  return text;
}

TEST(PolicyTest, DeeplyNestedGroupsAreRefusedNotACrash) {
  ASSERT_TRUE(Policy::Parse(GroupChain(8), "chain.toml").ok());
  // Fits in the 1 MiB cap: the nesting bound refuses it (the expansion used to recurse once per
  // level and overflow the stack).
  auto deep = Policy::Parse(GroupChain(30000), "chain.toml");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().reason(), "POLICY_INVALID");
  EXPECT_NE(deep.status().message().find("groups nest more than 16 deep"), std::string::npos)
      << deep.status().message();
  // 100000 groups deep is refused too (it is also larger than a policy may be).
  auto deeper = Policy::Parse(GroupChain(100000), "chain.toml");
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.status().reason(), "POLICY_INVALID");
}

TEST(PolicyTest, DeeplyNestedTomlTablesAreRefusedBeforeParsing) {
  // toml++ builds and destroys nested tables recursively: 400000 levels overflowed the stack.
  std::string header = "[";
  for (int i = 0; i < 400000; ++i) header += "a.";
  header += "b]\n";
  auto tables = Policy::Parse(std::string(kMinimal) + header, "deep.toml");
  ASSERT_FALSE(tables.ok());
  EXPECT_EQ(tables.status().reason(), "POLICY_INVALID");
  EXPECT_NE(tables.status().message().find("more than 16 dots"), std::string::npos)
      << tables.status().message();
  std::string inline_tables = "x = ";
  for (int i = 0; i < 20; ++i) inline_tables += "{a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p = ";
  inline_tables += "1" + std::string(20, '}') + "\n";
  auto braces = Policy::Parse(std::string(kMinimal) + inline_tables, "deep.toml");
  ASSERT_FALSE(braces.ok());
  EXPECT_NE(braces.status().message().find("nest more than 16 deep"), std::string::npos)
      << braces.status().message();
  // Dots inside strings and comments are not nesting.
  auto quoted = Policy::Parse(
      Replace(kMinimal, "version = \"1\"",
              "version = \"" + std::string(100, '.') + "\" # " + std::string(100, '.')),
      "q.toml");
  EXPECT_TRUE(quoted.ok()) << quoted.status().ToString();
}

}  // namespace
}  // namespace tearline
