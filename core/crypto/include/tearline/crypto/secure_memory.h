// SecretBytes: a fixed-size buffer for key material and plaintext, allocated with sodium_malloc
// (guard pages, mlock'd where permitted, canary) and wiped with sodium_memzero on release.
//
// Reuse of released regions: sodium_malloc and sodium_free each change the process's page
// mappings (mmap, mprotect of the guard pages, munmap), and in a multi-threaded process every such
// change interrupts the other cores to flush their TLBs. With a content key per portion and a
// plaintext buffer per report sealed and opened, that was 12% and then 13% of a node's CPU end to
// end (PERFORMANCE.md). So a released region is wiped and kept for a later Allocate instead of
// being unmapped, in two kinds:
//  - key-sized regions (at most kPooledSecretMaxBytes): kept per exact size, kPooledSecretsPerSize
//    of each;
//  - buffers of up to kPooledSecretMaxPages pages (plaintexts): allocated with the whole capacity
//    of their page count (every size in a page class maps the same pages, so this costs no
//    memory), kept per page count, kPooledBuffersPerClass of each and kPooledSecretMaxKeptBytes
//    in all, and handed out for any size of the class with the data placed so that it still ends
//    at the guard page, as sodium_malloc places it.
// A kept region is still guarded, wiped, and locked where mlock succeeded (kept buffers count
// against RLIMIT_MEMLOCK, hence the small total); a reused one is zeroed again over the size
// asked. Larger regions are freed at once.
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

// Key-sized regions of at most this many bytes are kept for reuse (see above), this many of each
// size.
inline constexpr std::size_t kPooledSecretMaxBytes = 64;
inline constexpr std::size_t kPooledSecretsPerSize = 64;
// Larger buffers of at most this many pages are kept, this many of each page count, and at most
// this many bytes of their data pages in all (each region also maps a header and two guard pages).
inline constexpr std::size_t kPooledSecretMaxPages = 16;
inline constexpr std::size_t kPooledBuffersPerClass = 8;
inline constexpr std::size_t kPooledSecretMaxKeptBytes = std::size_t{256} << 10;

// How many released regions are kept now: of key size `size`, or of `pages` pages, and the bytes
// of all kept buffers. For tests and diagnostics.
std::size_t KeptSecretKeys(std::size_t size);
std::size_t KeptSecretBuffers(std::size_t pages);
std::size_t KeptSecretBufferBytes();

class SecretBytes {
 public:
  SecretBytes() = default;
  // Allocates `size` zeroed bytes. Returns SECURE_ALLOC if sodium_malloc fails (also for a size
  // too large to map).
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
  // What sodium_malloc returned, and the size it was asked for: the data is the last size_ bytes
  // of that region (region_ == data_ and capacity_ == size_ unless it came from a page class).
  std::uint8_t* region_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_SECURE_MEMORY_H_
