// Tests for SecretBytes: zeroed on allocation, wiped on release, unique ownership, and the reuse of
// released regions, keys by size and plaintext buffers by page count (which must never hand out a
// previous secret's bytes).
#include "tearline/crypto/secure_memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
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

// A key-sized region is reused by exact size, so the data still ends where sodium_malloc put it
// (at the guard page); a region of another size is not handed out.
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

std::uintptr_t EndOf(const SecretBytes& s) {
  return reinterpret_cast<std::uintptr_t>(s.data() + s.size());
}

// A plaintext buffer is kept by its page count and handed out for any size of that class, zeroed
// over the whole size (a larger use reaches bytes a smaller one did not), with its data ending at
// the guard page as sodium_malloc places it: a write past the end still faults.
TEST(SecureMemoryTest, APlaintextBufferIsReusedForAnySizeOfItsPageClass) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  std::uintptr_t end = 0;
  std::size_t kept = 0;
  {
    auto s = SecretBytes::Allocate(1000);
    ASSERT_TRUE(s.ok());
    std::memset(s->data(), 0xC3, s->size());
    end = EndOf(*s);
    EXPECT_EQ(end % page, 0u) << "the data does not end at a page boundary (the guard page)";
    kept = KeptSecretBuffers(1);
  }
  EXPECT_EQ(KeptSecretBuffers(1), kept + 1) << "the released one-page buffer was not kept";
  auto larger = SecretBytes::Allocate(3000);
  ASSERT_TRUE(larger.ok());
  EXPECT_EQ(KeptSecretBuffers(1), kept) << "the kept one-page buffer was not handed out";
  EXPECT_EQ(EndOf(*larger), end) << "the released one-page buffer was not reused";
  EXPECT_EQ(larger->size(), 3000u);
  EXPECT_TRUE(AllZero(*larger)) << "a reused buffer still held the previous plaintext";
  std::memset(larger->data(), 0x3C, larger->size());
  const std::uintptr_t larger_end = EndOf(*larger);
  larger = SecretBytes();
  auto smaller = SecretBytes::Allocate(kPooledSecretMaxBytes + 1);
  ASSERT_TRUE(smaller.ok());
  EXPECT_EQ(EndOf(*smaller), larger_end);
  EXPECT_TRUE(AllZero(*smaller));
}

// What the pool keeps is wiped: a released key or plaintext leaves no byte behind in the region
// that stays mapped for the next Allocate (read here through the pointer the secret had).
TEST(SecureMemoryTest, AKeptRegionHoldsNoByteOfItsLastSecret) {
  for (std::size_t size : {std::size_t{32}, std::size_t{1000}, std::size_t{5000}}) {
    std::size_t kept_keys = 0;
    std::size_t kept_bytes = 0;
    const volatile std::uint8_t* where = nullptr;
    {
      auto s = SecretBytes::Allocate(size);
      ASSERT_TRUE(s.ok());
      std::memset(s->data(), 0xE7, s->size());
      where = s->data();
      // Counted while it is live: the Allocate may itself have taken a kept region.
      kept_keys = KeptSecretKeys(size <= kPooledSecretMaxBytes ? size : 0);
      kept_bytes = KeptSecretBufferBytes();
    }
    const bool kept = size <= kPooledSecretMaxBytes ? KeptSecretKeys(size) == kept_keys + 1
                                                    : KeptSecretBufferBytes() > kept_bytes;
    ASSERT_TRUE(kept) << size << ": the released region was not kept, so it may be unmapped";
    std::size_t left = 0;
    for (std::size_t i = 0; i < size; ++i) left += where[i] != 0 ? std::size_t{1} : std::size_t{0};
    EXPECT_EQ(left, 0u) << size << ": bytes of the released secret are still in the pool";
  }
}

TEST(SecureMemoryTest, ABufferIsNotReusedForAnotherPageCount) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::uintptr_t end = 0;
  {
    auto one_page = SecretBytes::Allocate(page / 2);
    ASSERT_TRUE(one_page.ok());
    end = EndOf(*one_page);
  }
  auto three_pages = SecretBytes::Allocate(2 * page + 100);
  ASSERT_TRUE(three_pages.ok());
  EXPECT_NE(EndOf(*three_pages), end);
  EXPECT_TRUE(AllZero(*three_pages));
  EXPECT_EQ(EndOf(*three_pages) % page, 0u);
  // Beyond the largest class a buffer is still allocated, zeroed and ending at its guard page.
  auto huge = SecretBytes::Allocate((kPooledSecretMaxPages + 1) * page);
  ASSERT_TRUE(huge.ok());
  EXPECT_TRUE(AllZero(*huge));
  EXPECT_EQ(EndOf(*huge) % page, 0u);
  // A size that cannot be mapped is refused, not rounded into a small class.
  auto impossible = SecretBytes::Allocate(std::numeric_limits<std::size_t>::max() - 8);
  EXPECT_FALSE(impossible.ok());
}

// The pool is bounded: at most kPooledBuffersPerClass of a page count and
// kPooledSecretMaxKeptBytes in all; the rest is unmapped at once.
TEST(SecureMemoryTest, KeptBuffersAreBoundedPerClassAndInAll) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  {
    std::vector<SecretBytes> many;
    for (std::size_t i = 0; i < kPooledBuffersPerClass + 3; ++i) {
      auto s = SecretBytes::Allocate(page);  // two pages with the canary
      ASSERT_TRUE(s.ok());
      many.push_back(std::move(*s));
    }
  }
  EXPECT_EQ(KeptSecretBuffers(2), kPooledBuffersPerClass);
  for (std::size_t pages = 1; pages <= kPooledSecretMaxPages; ++pages) {
    std::vector<SecretBytes> many;
    for (std::size_t i = 0; i < kPooledBuffersPerClass; ++i) {
      auto s = SecretBytes::Allocate(pages * page - 100);
      ASSERT_TRUE(s.ok());
      many.push_back(std::move(*s));
    }
  }
  EXPECT_LE(KeptSecretBufferBytes(), kPooledSecretMaxKeptBytes);
  EXPECT_GE(KeptSecretBufferBytes() + kPooledSecretMaxPages * page, kPooledSecretMaxKeptBytes)
      << "the pool kept far less than its bound";
  EXPECT_EQ(KeptSecretBuffers(kPooledSecretMaxPages + 1), 0u);
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
  threads.reserve(kThreads);
  std::vector<int> bad(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      for (int i = 0; i < kRounds; ++i) {
        auto a = SecretBytes::Allocate(32);
        auto b = SecretBytes::Allocate(32);
        auto c = SecretBytes::Allocate(static_cast<std::size_t>(900 + 37 * (i % 50)));
        if (!a.ok() || !b.ok() || !c.ok() || !AllZero(*a) || !AllZero(*b) || !AllZero(*c) ||
            a->data() == b->data()) {
          ++bad[static_cast<std::size_t>(t)];
          continue;
        }
        std::memset(a->data(), t + 1, a->size());
        std::memset(b->data(), t + 1, b->size());
        std::memset(c->data(), t + 1, c->size());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[static_cast<std::size_t>(t)], 0) << t;
}

}  // namespace
}  // namespace tearline
