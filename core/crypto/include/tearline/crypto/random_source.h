// Where sealing draws its randomness: content keys, nonces, salts, report and forward ids and the
// ephemeral keys of sealed-box key wraps.
//
// Production code always uses OsRandom() (libsodium's randombytes_buf, the OS CSPRNG). A
// SeededRandom expands a fixed 32-byte seed into a reproducible stream so that the conformance
// vectors (tests/vectors/) and tests can seal byte-identical reports; it must never seal real
// content, because anyone who knows the seed knows every key it produced.
//
// Contract: Fill writes exactly out.size() bytes and cannot fail (libsodium is initialised by
// the caller: InitCrypto()).
// Ownership: a RandomSource is borrowed by the sealing functions for the duration of one call.
// Thread-safety: OsRandom() may be used from any thread; a SeededRandom is stateful and belongs
// to one thread.
#ifndef TEARLINE_CRYPTO_RANDOM_SOURCE_H_
#define TEARLINE_CRYPTO_RANDOM_SOURCE_H_

#include <array>
#include <cstdint>
#include <span>

namespace tearline {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with the next bytes of this source.
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

// The process-wide OS randomness (randombytes_buf). Never null, lives for the whole program.
RandomSource& OsRandom();

// Deterministic stream: the ChaCha20 (IETF) keystream under key = seed and an all-zero 96-bit
// nonce. Each Fill call starts at the next unused 64-byte block (a call of n bytes consumes
// ceil(n / 64) blocks), so the same seed and the same sequence of Fill sizes always yield the same
// bytes. At most 2^32 blocks (256 GiB) may be drawn; further draws wrap, which no test approaches.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::span<const std::uint8_t, 32> seed);
  ~SeededRandom() override;
  SeededRandom(const SeededRandom&) = delete;
  SeededRandom& operator=(const SeededRandom&) = delete;

  void Fill(std::span<std::uint8_t> out) override;

 private:
  std::array<std::uint8_t, 32> seed_{};
  std::uint32_t next_block_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_CRYPTO_RANDOM_SOURCE_H_
