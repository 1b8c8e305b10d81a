#include "tearline/crypto/random_source.h"

#include <sodium.h>

#include <algorithm>

namespace tearline {
namespace {

class OsRandomSource final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    if (!out.empty()) randombytes_buf(out.data(), out.size());
  }
};

constexpr std::size_t kBlockBytes = 64;

}  // namespace

RandomSource& OsRandom() {
  static OsRandomSource source;
  return source;
}

SeededRandom::SeededRandom(std::span<const std::uint8_t, 32> seed) {
  std::copy(seed.begin(), seed.end(), seed_.begin());
}

SeededRandom::~SeededRandom() { sodium_memzero(seed_.data(), seed_.size()); }

void SeededRandom::Fill(std::span<std::uint8_t> out) {
  if (out.empty()) return;
  static constexpr std::array<std::uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> kNonce{};
  std::fill(out.begin(), out.end(), std::uint8_t{0});
  crypto_stream_chacha20_ietf_xor_ic(out.data(), out.data(), out.size(), kNonce.data(), next_block_,
                                     seed_.data());
  next_block_ += static_cast<std::uint32_t>((out.size() + kBlockBytes - 1) / kBlockBytes);
}

}  // namespace tearline
