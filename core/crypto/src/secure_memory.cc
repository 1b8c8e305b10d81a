#include "tearline/crypto/secure_memory.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace tearline {
namespace {

// Wiped regions kept for reuse, by size (index = size in bytes). Never destroyed: a SecretBytes
// in a static object may be released after this pool would have been.
class KeptRegions {
 public:
  void* Take(std::size_t size) {
    std::lock_guard lock(mu_);
    std::vector<void*>& kept = kept_[size];
    if (kept.empty()) return nullptr;
    void* p = kept.back();
    kept.pop_back();
    return p;
  }
  // False when that size already has its share: the caller frees the region.
  bool Keep(void* p, std::size_t size) {
    std::lock_guard lock(mu_);
    std::vector<void*>& kept = kept_[size];
    if (kept.size() >= kPooledSecretsPerSize) return false;
    kept.push_back(p);
    return true;
  }

 private:
  std::mutex mu_;
  std::array<std::vector<void*>, kPooledSecretMaxBytes + 1> kept_;
};

KeptRegions& Kept() {
  static auto* kept = new KeptRegions();
  return *kept;
}

}  // namespace

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
  const bool pooled = size <= kPooledSecretMaxBytes;
  // A kept region was wiped when it was released.
  void* p = pooled ? Kept().Take(size) : nullptr;
  if (p != nullptr) {
    out.data_ = static_cast<std::uint8_t*>(p);
    out.size_ = size;
    return out;
  }
  p = sodium_malloc(size);
  if (p == nullptr) {
    return Status(Code::kResourceExhausted, "SECURE_ALLOC",
                  "could not allocate protected memory for key material");
  }
  out.data_ = static_cast<std::uint8_t*>(p);
  out.size_ = size;
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
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::Release() {
  if (data_ != nullptr) {
    if (size_ <= kPooledSecretMaxBytes) {
      sodium_memzero(data_, size_);
      if (Kept().Keep(data_, size_)) {
        data_ = nullptr;
        size_ = 0;
        return;
      }
    }
    // sodium_free wipes the region before unmapping it.
    sodium_free(data_);
    data_ = nullptr;
    size_ = 0;
  }
}

}  // namespace tearline
