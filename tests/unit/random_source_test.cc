// The randomness sources sealing draws from: the OS source differs draw to draw; the seeded
// source is the documented ChaCha20 keystream, block-aligned per call.
#include "tearline/crypto/random_source.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "test_support.h"

namespace tearline {
namespace {

std::array<std::uint8_t, 32> SeedOf(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

// The keystream of the documented construction, from block `block` on.
std::vector<std::uint8_t> Keystream(const std::array<std::uint8_t, 32>& seed, std::uint32_t block,
                                    std::size_t n) {
  std::vector<std::uint8_t> out(n, 0);
  const std::array<std::uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> nonce{};
  crypto_stream_chacha20_ietf_xor_ic(out.data(), out.data(), n, nonce.data(), block, seed.data());
  return out;
}

class RandomSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

TEST_F(RandomSourceTest, OsRandomDiffersDrawToDraw) {
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  OsRandom().Fill(a);
  OsRandom().Fill(b);
  EXPECT_NE(a, b);
  EXPECT_EQ(&OsRandom(), &OsRandom());
}

TEST_F(RandomSourceTest, SeededRandomIsTheChaCha20KeystreamOneBlockAlignedRunPerCall) {
  const auto seed = SeedOf(7);
  SeededRandom r(seed);
  std::vector<std::uint8_t> first(10);
  std::vector<std::uint8_t> second(70);  // Two blocks.
  std::vector<std::uint8_t> third(5);
  r.Fill(first);
  r.Fill(second);
  r.Fill(third);
  EXPECT_EQ(first, Keystream(seed, 0, 10));
  EXPECT_EQ(second, Keystream(seed, 1, 70));
  EXPECT_EQ(third, Keystream(seed, 3, 5));
}

TEST_F(RandomSourceTest, SameSeedSameBytesOtherSeedOtherBytes) {
  SeededRandom a(SeedOf(1));
  SeededRandom b(SeedOf(1));
  SeededRandom c(SeedOf(2));
  std::array<std::uint8_t, 48> x{};
  std::array<std::uint8_t, 48> y{};
  std::array<std::uint8_t, 48> z{};
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  // The stream moves on: the next draw is not a repeat.
  a.Fill(y);
  EXPECT_NE(x, y);
  std::vector<std::uint8_t> empty;
  a.Fill(empty);  // No bytes, no effect, no failure.
}

// The seeded source is for vectors and tests only: no daemon or core source names it (a daemon
// sealing with it would hand every key to whoever reads the seed).
TEST_F(RandomSourceTest, NoDaemonOrCoreSourceUsesTheSeededSource) {
  const std::filesystem::path root = testing::SourcePath("");
  std::size_t scanned = 0;
  for (const char* dir : {"broker", "node", "core"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
      if (entry.path().stem() == "random_source") continue;  // Where it is defined.
      ++scanned;
      std::ifstream in(entry.path());
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      EXPECT_EQ(text.find("SeededRandom"), std::string::npos)
          << std::filesystem::relative(entry.path(), root).string();
    }
  }
  EXPECT_GT(scanned, 50u) << "the source tree was not found under " << root;
}

}  // namespace
}  // namespace tearline
