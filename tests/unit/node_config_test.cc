#include "tearline/node/node_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

std::filesystem::path Write(const TempDir& dir, const std::string& text) {
  auto path = dir / "node.toml";
  std::ofstream(path) << text;
  return path;
}

constexpr const char* kValid = R"([node]
id = "usa-1"
broker_endpoint = "tcp://127.0.0.1:5555"
broker_certificate = "certs/broker.cert"
certificate = "certs/usa-1.cert"
secret = "/keys/usa-1.secret"
ca_dir = "certs/ca"
data_dir = "data/usa-1"
heartbeat_ms = 250
)";

TEST(NodeConfigTest, LoadsAndResolvesRelativePathsAgainstTheFile) {
  TempDir tmp;
  auto c = LoadNodeConfig(Write(tmp, kValid));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id, "usa-1");
  EXPECT_EQ(c->broker_endpoint, "tcp://127.0.0.1:5555");
  EXPECT_EQ(c->certificate, tmp.path() / "certs/usa-1.cert");
  EXPECT_EQ(c->secret, std::filesystem::path("/keys/usa-1.secret"));
  EXPECT_EQ(c->data_dir, tmp.path() / "data/usa-1");
  EXPECT_TRUE(c->policy.empty());
  EXPECT_EQ(c->heartbeat_ms, 250u);
  EXPECT_EQ(c->ControlEndpoint(), "ipc://" + (tmp.path() / "data/usa-1/control.sock").string());
}

TEST(NodeConfigTest, MissingFileIsNotFound) {
  TempDir tmp;
  auto c = LoadNodeConfig(tmp / "absent.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), "CONFIG_NOT_FOUND");
  EXPECT_NE(c.status().message().find("absent.toml"), std::string::npos);
}

// Each broken configuration must be refused with the file and the line of the problem.
struct Broken {
  const char* name;
  std::string text;
  int line;
  const char* cause;
};

TEST(NodeConfigTest, ErrorsNameFileAndLine) {
  const std::string valid = kValid;
  const Broken cases[] = {
      {"unknown key", valid + "colour = \"blue\"\n", 10, "colour"},
      {"heartbeat too small", R"([node]
id = "usa-1"
heartbeat_ms = 5
)",
       3, "heartbeat_ms"},
      {"wrong type", R"([node]
id = 42
)",
       2, "id"},
      {"empty string", R"([node]

data_dir = ""
)",
       3, "data_dir"},
      {"syntax error", R"([node]
id = "usa-1
)",
       2, ""},
  };
  for (const auto& b : cases) {
    TempDir tmp;
    const auto path = Write(tmp, b.text);
    auto c = LoadNodeConfig(path);
    ASSERT_FALSE(c.ok()) << b.name;
    EXPECT_EQ(c.status().reason(), "CONFIG_INVALID") << b.name;
    const std::string where = path.string() + ":" + std::to_string(b.line) + ":";
    EXPECT_NE(c.status().message().find(where), std::string::npos)
        << b.name << ": " << c.status().message();
    EXPECT_NE(c.status().message().find(b.cause), std::string::npos) << b.name;
  }
}

TEST(NodeConfigTest, MissingTableOrKeysAreNamed) {
  TempDir tmp;
  auto no_table = LoadNodeConfig(Write(tmp, "[broker]\nid = \"x\"\n"));
  ASSERT_FALSE(no_table.ok());
  EXPECT_NE(no_table.status().message().find("[node]"), std::string::npos);

  auto partial = LoadNodeConfig(Write(tmp, "[node]\nid = \"usa-1\"\n"));
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(partial.status().message().find("broker_endpoint"), std::string::npos);
}

}  // namespace
}  // namespace tearline::node
