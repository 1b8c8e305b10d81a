#include "tearline/crypto/secure_memory.h"

#include <sodium.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace tearline {
namespace {

// libsodium places a 16-byte canary before the data in the same pages (CANARY_SIZE in its
// utils.c). If a version used more, a class's capacity would map one more page: still correct.
constexpr std::size_t kCanaryBytes = 16;

std::size_t PageBytes() {
  static const std::size_t page = [] {
    const long n = ::sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<std::size_t>(n) : std::size_t{4096};
  }();
  return page;
}

// The page class of a buffer larger than a key: the number of pages its data and canary need
// (1..kPooledSecretMaxPages), or 0 when it is too large to keep.
std::size_t PageClass(std::size_t size) {
  // Compared before rounding, so that a size near SIZE_MAX cannot wrap into a small class.
  if (size > kPooledSecretMaxPages * PageBytes()) return 0;
  const std::size_t pages = (size + kCanaryBytes + PageBytes() - 1) / PageBytes();
  return pages <= kPooledSecretMaxPages ? pages : 0;
}

// The size asked of sodium_malloc for a page class: everything its pages hold besides the canary.
std::size_t ClassCapacity(std::size_t pages) { return pages * PageBytes() - kCanaryBytes; }

// Wiped regions kept for reuse. Never destroyed: a SecretBytes in a static object may be released
// after this pool would have been.
class KeptRegions {
 public:
  // A wiped region of exactly `size` bytes (a key), or nullptr.
  void* TakeKey(std::size_t size) {
    std::lock_guard lock(mu_);
    return Pop(keys_[size]);
  }
  // A wiped region of ClassCapacity(pages) bytes, or nullptr.
  void* TakeBuffer(std::size_t pages) {
    std::lock_guard lock(mu_);
    void* p = Pop(buffers_[pages]);
    if (p != nullptr) kept_bytes_ -= pages * PageBytes();
    return p;
  }
  // False when that size already has its share: the caller frees the region.
  bool KeepKey(void* p, std::size_t size) {
    std::lock_guard lock(mu_);
    std::vector<void*>& kept = keys_[size];
    if (kept.size() >= kPooledSecretsPerSize) return false;
    kept.push_back(p);
    return true;
  }
  // False when the class or the pool is full: the caller frees the region.
  bool KeepBuffer(void* p, std::size_t pages) {
    std::lock_guard lock(mu_);
    std::vector<void*>& kept = buffers_[pages];
    const std::size_t bytes = pages * PageBytes();
    if (kept.size() >= kPooledBuffersPerClass || kept_bytes_ + bytes > kPooledSecretMaxKeptBytes) {
      return false;
    }
    kept.push_back(p);
    kept_bytes_ += bytes;
    return true;
  }

  std::size_t Keys(std::size_t size) {
    std::lock_guard lock(mu_);
    return size < keys_.size() ? keys_[size].size() : 0;
  }
  std::size_t Buffers(std::size_t pages) {
    std::lock_guard lock(mu_);
    return pages < buffers_.size() ? buffers_[pages].size() : 0;
  }
  std::size_t BufferBytes() {
    std::lock_guard lock(mu_);
    return kept_bytes_;
  }

 private:
  static void* Pop(std::vector<void*>& kept) {
    if (kept.empty()) return nullptr;
    void* p = kept.back();
    kept.pop_back();
    return p;
  }

  std::mutex mu_;
  std::array<std::vector<void*>, kPooledSecretMaxBytes + 1> keys_;
  std::array<std::vector<void*>, kPooledSecretMaxPages + 1> buffers_;
  std::size_t kept_bytes_ = 0;
};

KeptRegions& Kept() {
  static auto* kept = new KeptRegions();
  return *kept;
}

}  // namespace

std::size_t KeptSecretKeys(std::size_t size) { return Kept().Keys(size); }
std::size_t KeptSecretBuffers(std::size_t pages) { return Kept().Buffers(pages); }
std::size_t KeptSecretBufferBytes() { return Kept().BufferBytes(); }

Status InitCrypto() {
  // sodium_init is itself thread-safe and idempotent; it returns 1 when already initialised.
  if (sodium_init() < 0) {
    return Internal("CRYPTO_INIT", "libsodium could not be initialised");
  }
  return Status::Ok();
}

Result<SecretBytes> SecretBytes::Allocate(std::size_t size) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  SecretBytes out;
  if (size == 0) return out;
  const bool key = size <= kPooledSecretMaxBytes;
  const std::size_t pages = key ? 0 : PageClass(size);
  std::size_t capacity = size;
  void* p = nullptr;
  if (key) {
    p = Kept().TakeKey(size);
  } else if (pages != 0) {
    capacity = ClassCapacity(pages);
    p = Kept().TakeBuffer(pages);
  }
  if (p == nullptr) p = sodium_malloc(capacity);
  if (p == nullptr) {
    return Status(Code::kResourceExhausted, "SECURE_ALLOC",
                  "could not allocate protected memory for key material");
  }
  out.region_ = static_cast<std::uint8_t*>(p);
  out.capacity_ = capacity;
  // The data ends where the region ends, at the guard page, as sodium_malloc placed it.
  out.data_ = out.region_ + (capacity - size);
  out.size_ = size;
  // A kept region was wiped when released, but a larger size of its class reaches bytes an
  // earlier, smaller use did not cover; zero what is handed out either way.
  sodium_memzero(out.data_, size);
  return out;
}

Result<SecretBytes> SecretBytes::CopyOf(std::span<const std::uint8_t> data) {
  auto out = Allocate(data.size());
  if (!out.ok()) return out.status();
  if (!data.empty()) std::memcpy(out->data(), data.data(), data.size());
  return out;
}

SecretBytes::~SecretBytes() { Release(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : region_(std::exchange(other.region_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    region_ = std::exchange(other.region_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::Release() {
  if (region_ == nullptr) return;
  void* region = std::exchange(region_, nullptr);
  const std::size_t capacity = std::exchange(capacity_, 0);
  std::uint8_t* data = std::exchange(data_, nullptr);
  const std::size_t size = std::exchange(size_, 0);
  // Only the data was ever handed out; the rest of a class's region was zeroed or wiped before.
  sodium_memzero(data, size);
  if (capacity <= kPooledSecretMaxBytes) {
    if (Kept().KeepKey(region, capacity)) return;
  } else if (const std::size_t pages = PageClass(capacity);
             pages != 0 && capacity == ClassCapacity(pages)) {
    if (Kept().KeepBuffer(region, pages)) return;
  }
  // sodium_free wipes the region before unmapping it.
  sodium_free(region);
}

}  // namespace tearline
