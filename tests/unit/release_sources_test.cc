#include "tearline/node/release_sources.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace tearline::node {
namespace {

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(ReleaseSourcesTest, KeepsEveryPortionSealedToTheNodeItself) {
  testing::TempDir dir;
  auto sources = ReleaseSources::Open(dir.path());
  ASSERT_TRUE(sources.ok());
  auto me = GenerateEncryptionKeyPair();
  auto other = GenerateEncryptionKeyPair();
  ASSERT_TRUE(me.ok() && other.ok());
  const std::string id(32, 'a');
  const std::string first = "Convoy sighted", second = "Maritime patrol";
  ASSERT_TRUE(sources
                  ->Keep(id, {"(S//REL TO USA, FVEY)", "(S//REL TO USA, JPN)"},
                         {Bytes(first), Bytes(second)}, me->public_key)
                  .ok());
  auto p = sources->Load(id, 1, *me);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->label, "(S//REL TO USA, JPN)");
  EXPECT_EQ(std::string(p->content.span().begin(), p->content.span().end()), second);
  // Not readable with another key, no such portion, no such report, a path in the id.
  EXPECT_EQ(sources->Load(id, 1, *other).status().reason(), "RELEASE_NO_SOURCE");
  EXPECT_EQ(sources->Load(id, 2, *me).status().reason(), "RELEASE_NO_SOURCE");
  EXPECT_EQ(sources->Load(std::string(32, 'b'), 0, *me).status().reason(), "RELEASE_NO_SOURCE");
  EXPECT_EQ(sources->Load("../../etc/passwd", 0, *me).status().reason(), "RELEASE_NO_SOURCE");
  // The file on disk holds no plaintext.
  std::ifstream in(dir.path() / "release-sources" / (id + ".src"), std::ios::binary);
  const std::string disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(disk.find(second), std::string::npos);
  EXPECT_EQ(disk.find("REL TO"), std::string::npos);
}

}  // namespace
}  // namespace tearline::node
