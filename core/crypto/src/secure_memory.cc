#include "tearline/crypto/secure_memory.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace tearline {

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
  void* p = sodium_malloc(size);
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
    // sodium_free wipes the region before unmapping it.
    sodium_free(data_);
    data_ = nullptr;
    size_ = 0;
  }
}

}  // namespace tearline
