#include "tearline/node/release_sources.h"

#include <gtest/gtest.h>

#include <fstream>
#include <span>
#include <string>

#include "tearline/base/status.h"
#include "tearline/node/group_commit.h"
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

// The daemon's sealer keeps a source in the batch its outbox copy is synced with (one sync per
// loop wake-up, before the first Submit); a release's source, which leaves in a decision frame at
// once, is synced before Keep returns.
TEST(ReleaseSourcesTest, KeepsWithTheBatchSyncUnlessToldToSyncNow) {
  testing::TempDir dir;
  auto sources = ReleaseSources::Open(dir.path());
  ASSERT_TRUE(sources.ok());
  auto me = GenerateEncryptionKeyPair();
  ASSERT_TRUE(me.ok());
  int syncs = 0;
  GroupCommit commit([&syncs] {
    ++syncs;
    return Status::Ok();
  });
  sources->UseGroupCommit(&commit);
  const std::string content = "Convoy sighted";
  ASSERT_TRUE(sources
                  ->Keep(std::string(32, 'a'), {"(S//REL TO USA, FVEY)"}, {Bytes(content)},
                         me->public_key, ReleaseSources::Sync::kNow)
                  .ok());
  EXPECT_TRUE(commit.idle());  // Synced by Keep itself: nothing left for the batch.
  ASSERT_TRUE(
      sources
          ->Keep(std::string(32, 'b'), {"(S//REL TO USA, FVEY)"}, {Bytes(content)}, me->public_key)
          .ok());
  EXPECT_FALSE(commit.idle());  // Left to the batch sync.
  ASSERT_TRUE(commit.Flush().ok());
  EXPECT_EQ(syncs, 1);
  EXPECT_TRUE(commit.idle());
  EXPECT_TRUE(sources->Load(std::string(32, 'b'), 0, *me).ok());
  // A failing batch sync is reported by Flush, not by Keep, and retried by the next Flush.
  GroupCommit failing([] { return IoError("NODE_SYNC_IO", "disk gone"); });
  sources->UseGroupCommit(&failing);
  ASSERT_TRUE(
      sources
          ->Keep(std::string(32, 'c'), {"(S//REL TO USA, FVEY)"}, {Bytes(content)}, me->public_key)
          .ok());
  EXPECT_FALSE(failing.Flush().ok());
  EXPECT_FALSE(failing.idle());
}

}  // namespace
}  // namespace tearline::node
