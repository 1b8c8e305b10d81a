#include "tearline/base/unique_handle.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace tearline {
namespace {

// A stand-in for a C library: handles are plain structs, releasing one records its id.
struct FakeHandle {
  int id;
};

std::vector<int>& Released() {
  static std::vector<int> released;
  return released;
}

int CloseFake(FakeHandle* h) {
  Released().push_back(h->id);
  delete h;
  return 0;  // An error code, as sqlite3_close_v2 returns; the handle ignores it.
}

void FreeFake(FakeHandle* h) {
  Released().push_back(-h->id);
  delete h;
}

using Fake = UniqueHandle<FakeHandle, &CloseFake>;
using VoidFake = UniqueHandle<FakeHandle, &FreeFake>;

class UniqueHandleTest : public ::testing::Test {
 protected:
  void SetUp() override { Released().clear(); }
};

TEST_F(UniqueHandleTest, ReleasesOnceWhenTheOwnerGoesAway) {
  {
    Fake h(new FakeHandle{1});
    EXPECT_EQ(h->id, 1);
    EXPECT_TRUE(Released().empty());
  }
  EXPECT_EQ(Released(), std::vector<int>{1});
}

TEST_F(UniqueHandleTest, NullIsNeverReleased) {
  { Fake h; }
  { Fake h(nullptr); }
  EXPECT_TRUE(Released().empty());
}

TEST_F(UniqueHandleTest, MovingTransfersOwnership) {
  Fake a(new FakeHandle{2});
  {
    Fake b(std::move(a));
    EXPECT_EQ(a.get(), nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from.
    EXPECT_TRUE(Released().empty());
  }
  EXPECT_EQ(Released(), std::vector<int>{2});
}

TEST_F(UniqueHandleTest, AssigningReleasesTheOldHandleFirst) {
  Fake a(new FakeHandle{3});
  a = Fake(new FakeHandle{4});
  EXPECT_EQ(Released(), std::vector<int>{3});
  a.reset();
  EXPECT_EQ(Released(), (std::vector<int>{3, 4}));
}

TEST_F(UniqueHandleTest, ReleaseGivesUpOwnership) {
  Fake a(new FakeHandle{5});
  FakeHandle* raw = a.release();
  EXPECT_TRUE(Released().empty());
  EXPECT_EQ(CloseFake(raw), 0);
  EXPECT_EQ(Released(), std::vector<int>{5});
}

TEST_F(UniqueHandleTest, WorksWithReleaseFunctionsReturningVoid) {
  { VoidFake h(new FakeHandle{6}); }
  EXPECT_EQ(Released(), std::vector<int>{-6});
}

TEST_F(UniqueHandleTest, IsTheSizeOfAPointer) {
  static_assert(sizeof(Fake) == sizeof(FakeHandle*));
  SUCCEED();
}

}  // namespace
}  // namespace tearline
