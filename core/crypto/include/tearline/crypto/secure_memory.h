// SecretBytes: a fixed-size buffer for key material, allocated with sodium_malloc (guard pages,
// mlock'd where permitted, canary) and wiped with sodium_memzero on destruction.
//
// Reuse of small regions: a region of at most kPooledSecretMaxBytes (keys, seeds) is wiped when
// released and kept, at most kPooledSecretsPerSize of each size, for the next Allocate of the
// same size, instead of being unmapped. sodium_malloc and sodium_free each change the process's
// page mappings (mmap, mprotect of the guard pages, munmap), and in a multi-threaded process
// every such change interrupts the other cores to flush their TLBs: with a content key per
// portion sealed and opened, that was about 12% of a node's CPU end to end (PERFORMANCE.md).
// A kept region is still guarded, locked and zeroed; it is reused only for the same size, so
// the data still ends at the guard page. Larger regions (decrypted content) are freed at once.
//
// Ownership: unique; copies are deleted so a secret is never duplicated by accident; moves
// transfer the allocation. Thread-safety: none beyond that of a plain value; Allocate and
// destruction may run on any threads at once (the kept regions are behind a mutex).
#ifndef TEARLINE_SECURE_MEMORY_H_
#define TEARLINE_SECURE_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "tearline/base/status.h"

namespace tearline {

// Initialises libsodium once per process; safe to call from any thread, any number of times.
[[nodiscard]] Status InitCrypto();

// Regions of at most this many bytes are kept for reuse (see above), this many of each size.
inline constexpr std::size_t kPooledSecretMaxBytes = 64;
inline constexpr std::size_t kPooledSecretsPerSize = 64;

class SecretBytes {
 public:
  SecretBytes() = default;
  // Allocates `size` zeroed bytes. Returns an error if sodium_malloc fails.
  static Result<SecretBytes> Allocate(std::size_t size);
  // Allocates and copies `data` in; the caller remains responsible for wiping its own copy.
  static Result<SecretBytes> CopyOf(std::span<const std::uint8_t> data);

  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<std::uint8_t> span() { return {data_, size_}; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }

 private:
  void Release();
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_SECURE_MEMORY_H_
