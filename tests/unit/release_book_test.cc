#include "tearline/node/release_book.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tearline/base/encoding.h"
#include "test_support.h"

namespace tearline::node {
namespace {

ReleaseRecord Record(std::uint8_t tag, std::int64_t requested) {
  ReleaseRecord r;
  r.incoming = tag % 2 == 0;
  r.why = "joint patrol";
  r.requester_nation = "JPN";
  r.status.request_id = ReleaseId(16, tag);
  r.status.report_id = ReleaseId(16, 0xEE);
  r.status.portion = 1;
  r.status.to_nation = "KOR";
  r.status.state = "pending";
  r.status.requester = "jpn-1";
  r.status.originator = "usa-1";
  r.status.requested_unix = requested;
  return r;
}

TEST(ReleaseBookTest, StoresFindsByPrefixAndListsOldestFirst) {
  testing::TempDir dir;
  auto book = ReleaseBook::Open(dir.path());
  ASSERT_TRUE(book.ok());
  ASSERT_TRUE(book->Put(Record(0xB1, 200)).ok());
  ASSERT_TRUE(book->Put(Record(0xA2, 100)).ok());
  auto list = book->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].status.requested_unix, 100);
  auto found = book->Find("a2a2");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->incoming);
  EXPECT_EQ(found->why, "joint patrol");
  EXPECT_EQ(book->Find("ffff").status().reason(), "RELEASE_UNKNOWN_REQUEST");
  EXPECT_EQ(book->Find("../x").status().reason(), "RELEASE_UNKNOWN_REQUEST");

  // A decision replaces the record; the age and turnaround are derived for display.
  ReleaseRecord decided = Record(0xA2, 100);
  decided.status.state = "approved";
  decided.status.decided_unix = 103;
  ASSERT_TRUE(book->Put(decided).ok());
  auto j = ReleaseRecordJson(*book->Find("a2a2"), 110);
  EXPECT_EQ(j["state"], "approved");
  EXPECT_EQ(j["age_s"], 10);
  EXPECT_EQ(j["turnaround_s"], 3);
}

TEST(ReleaseBookTest, UnreadableFilesAreSkippedAndCounted) {
  testing::TempDir dir;
  auto book = ReleaseBook::Open(dir.path());
  ASSERT_TRUE(book.ok());
  ASSERT_TRUE(book->Put(Record(0xC3, 1)).ok());
  std::ofstream(dir.path() / "releases" / "00000000000000000000000000000000.json") << "{broken";
  std::size_t skipped = 0;
  EXPECT_EQ(book->List(&skipped).size(), 1u);
  EXPECT_EQ(skipped, 1u);
}

}  // namespace
}  // namespace tearline::node
