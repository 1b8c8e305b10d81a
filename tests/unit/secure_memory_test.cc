// Tests for SecretBytes: zeroed on allocation, wiped on release, unique ownership, and the reuse of
// small regions (which must never hand out a previous secret's bytes).
#include "tearline/crypto/secure_memory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace tearline {
namespace {

bool AllZero(const SecretBytes& s) {
  return std::all_of(s.data(), s.data() + s.size(), [](std::uint8_t b) { return b == 0; });
}

TEST(SecureMemoryTest, AllocatesZeroedBytesOfTheSizeAsked) {
  for (std::size_t size : {std::size_t{1}, std::size_t{32}, kPooledSecretMaxBytes,
                           kPooledSecretMaxBytes + 1, std::size_t{1} << 20}) {
    auto s = SecretBytes::Allocate(size);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->size(), size);
    EXPECT_TRUE(AllZero(*s)) << size;
  }
  auto empty = SecretBytes::Allocate(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// A small region is kept when released and handed out again for the same size: the mechanism
// that spares a node two page-table changes per sealed or opened portion. It comes back wiped.
TEST(SecureMemoryTest, AReleasedKeyRegionIsReusedAndComesBackWiped) {
  const std::uint8_t* first = nullptr;
  {
    auto s = SecretBytes::Allocate(32);
    ASSERT_TRUE(s.ok());
    std::memset(s->data(), 0xA5, s->size());
    first = s->data();
  }
  auto again = SecretBytes::Allocate(32);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->data(), first) << "the released 32-byte region was not reused";
  EXPECT_TRUE(AllZero(*again)) << "a reused region still held the previous secret";
}

// Reuse is by exact size, so the data still ends where sodium_malloc put it (at the guard page);
// a region of another size is not handed out.
TEST(SecureMemoryTest, ARegionIsReusedOnlyForItsOwnSize) {
  const std::uint8_t* first = nullptr;
  {
    auto s = SecretBytes::CopyOf(std::vector<std::uint8_t>(24, 0x5A));
    ASSERT_TRUE(s.ok());
    first = s->data();
  }
  auto other = SecretBytes::Allocate(16);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->data(), first);
  EXPECT_TRUE(AllZero(*other));
  auto same = SecretBytes::Allocate(24);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->data(), first);
  EXPECT_TRUE(AllZero(*same));
}

TEST(SecureMemoryTest, MovesTransferTheRegionAndLeaveTheSourceEmpty) {
  auto a = SecretBytes::CopyOf(std::vector<std::uint8_t>{1, 2, 3});
  ASSERT_TRUE(a.ok());
  const std::uint8_t* region = a->data();
  SecretBytes b = std::move(*a);
  EXPECT_TRUE(a->empty());  // NOLINT(bugprone-use-after-move): the contract under test.
  EXPECT_EQ(b.data(), region);
  EXPECT_EQ(b.size(), 3u);
  SecretBytes c;
  c = std::move(b);
  EXPECT_EQ(c.data(), region);
  EXPECT_EQ(c.data()[2], 3);
}

// Allocation and release from several threads at once (TSan checks the kept regions' lock);
// every region handed out is zeroed and no two live secrets share one.
TEST(SecureMemoryTest, ThreadsAllocateAndReleaseAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 500;
  std::vector<std::thread> threads;
  std::vector<int> bad(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      for (int i = 0; i < kRounds; ++i) {
        auto a = SecretBytes::Allocate(32);
        auto b = SecretBytes::Allocate(32);
        if (!a.ok() || !b.ok() || !AllZero(*a) || !AllZero(*b) || a->data() == b->data()) {
          ++bad[static_cast<std::size_t>(t)];
          continue;
        }
        std::memset(a->data(), t + 1, a->size());
        std::memset(b->data(), t + 1, b->size());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[static_cast<std::size_t>(t)], 0) << t;
}

}  // namespace
}  // namespace tearline
