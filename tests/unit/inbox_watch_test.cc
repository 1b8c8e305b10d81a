// The bench's inbox watcher against the node's real batch writes: the rename of `<id>.json` is
// seen as "stored" when the node writes it, the copy is "durable" only once the batch's sync has
// run (GroupCommit::Flush closes the batch's descriptors after it), and the count and events
// hold each moment once per copy. Skipped when the bench is not built.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tearline/node/group_commit.h"
#include "test_support.h"

#ifdef TEARLINE_HAVE_BENCH
#include "inbox_watch.h"
#endif

namespace tearline::bench {
namespace {

#ifdef TEARLINE_HAVE_BENCH

using tearline::testing::TempDir;

std::size_t Count(const std::vector<InboxWatch::Event>& events, bool durable) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.durable == durable ? 1 : 0;
  return n;
}

TEST(InboxWatchTest, ACopyIsDurableOnlyAfterTheBatchSync) {
  TempDir tmp;
  const auto inbox = tmp.path() / "inbox";
  std::filesystem::create_directories(inbox);
  InboxWatch watch;
  ASSERT_TRUE(watch.Start({inbox}).ok());
  auto commit = node::GroupCommit::Open({inbox});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  const std::string id = "0123456789abcdef0123456789abcdef";
  const std::filesystem::path report = inbox / "0123456789abcdef0123456789abcdef.report";
  const std::filesystem::path meta = inbox / "0123456789abcdef0123456789abcdef.json";
  const std::string text = "{}";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size());
  // The inbox's order: the report, then its metadata, both left to the batch.
  ASSERT_TRUE(node::WriteReplacing(report, bytes, 0600, &*commit, "X_IO").ok());
  ASSERT_TRUE(node::WriteReplacing(meta, bytes, 0600, &*commit, "X_IO").ok());
  ASSERT_TRUE(tearline::testing::WaitFor([&] { return Count(watch.Events(), false) == 1; },
                                         std::chrono::seconds(20)));
  // Renamed but not synced: not durable (nothing closed the batch's descriptors yet).
  EXPECT_EQ(watch.count(), 0u);
  EXPECT_EQ(Count(watch.Events(), true), 0u);
  ASSERT_TRUE(commit->Flush().ok());
  ASSERT_TRUE(
      tearline::testing::WaitFor([&] { return watch.count() == 1; }, std::chrono::seconds(20)));
  watch.Stop();
  const auto events = watch.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].durable);
  EXPECT_TRUE(events[1].durable);
  EXPECT_EQ(events[1].report_id_hex, id);
  EXPECT_EQ(events[1].node, 0);
  EXPECT_LE(events[0].at, events[1].at);
}

#else

TEST(InboxWatchTest, SkippedWithoutTheBench) {
  GTEST_SKIP() << "tearline-bench is not built here (configure with -DTEARLINE_BUILD_BENCH=ON)";
}

#endif

}  // namespace
}  // namespace tearline::bench
