#include "tearline/crypto/keys.h"

#include <sodium.h>

#include <cstring>
#include <utility>
#include <vector>

namespace tearline {
namespace {

Result<BoxKeyPair> GenerateBoxKeyPair() {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(kBoxSecretKeySize));
  BoxKeyPair pair;
  if (crypto_box_keypair(pair.public_key.data(), secret.data()) != 0) {
    return Internal("KEY_GENERATION", "crypto_box_keypair failed");
  }
  pair.secret_key = std::move(secret);
  return pair;
}

// The exact message signed: domain bytes, one NUL, then the message.
std::vector<std::uint8_t> DomainMessage(std::string_view domain,
                                        std::span<const std::uint8_t> message) {
  std::vector<std::uint8_t> out;
  out.reserve(domain.size() + 1 + message.size());
  out.insert(out.end(), domain.begin(), domain.end());
  out.push_back(0);
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

Result<SigningKeyPair> GenerateSigningKeyPair() {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Allocate(kSigningSecretKeySize));
  SigningKeyPair pair;
  if (crypto_sign_keypair(pair.public_key.data(), secret.data()) != 0) {
    return Internal("KEY_GENERATION", "crypto_sign_keypair failed");
  }
  pair.secret_key = std::move(secret);
  return pair;
}

Result<BoxKeyPair> GenerateEncryptionKeyPair() { return GenerateBoxKeyPair(); }
Result<BoxKeyPair> GenerateTransportKeyPair() { return GenerateBoxKeyPair(); }

Result<IdentityKeys> GenerateIdentityKeys() {
  IdentityKeys keys;
  TEARLINE_ASSIGN_OR_RETURN(keys.signing, GenerateSigningKeyPair());
  TEARLINE_ASSIGN_OR_RETURN(keys.encryption, GenerateEncryptionKeyPair());
  TEARLINE_ASSIGN_OR_RETURN(keys.transport, GenerateTransportKeyPair());
  return keys;
}

Result<SigningKeyPair> SigningKeyPairFromSecret(SecretBytes secret_key) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (secret_key.size() != kSigningSecretKeySize) {
    return InvalidArgument("KEY_INVALID", "an Ed25519 secret key must be 64 bytes");
  }
  SigningKeyPair pair;
  // Recompute from the seed rather than trusting the public half stored in the secret key.
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes rebuilt, SecretBytes::Allocate(kSigningSecretKeySize));
  if (crypto_sign_seed_keypair(pair.public_key.data(), rebuilt.data(), secret_key.data()) != 0) {
    return Internal("KEY_INVALID", "crypto_sign_seed_keypair failed");
  }
  if (sodium_memcmp(rebuilt.data(), secret_key.data(), kSigningSecretKeySize) != 0) {
    return InvalidArgument("KEY_INVALID",
                           "the Ed25519 secret key's stored public half does not match its seed");
  }
  pair.secret_key = std::move(rebuilt);
  return pair;
}

Result<BoxKeyPair> BoxKeyPairFromSecret(SecretBytes secret_key) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (secret_key.size() != kBoxSecretKeySize) {
    return InvalidArgument("KEY_INVALID", "an X25519 secret key must be 32 bytes");
  }
  BoxKeyPair pair;
  if (crypto_scalarmult_base(pair.public_key.data(), secret_key.data()) != 0) {
    return InvalidArgument("KEY_INVALID", "the X25519 secret key is not usable");
  }
  pair.secret_key = std::move(secret_key);
  return pair;
}

Result<Signature> SignWithDomain(const SigningKeyPair& key, std::string_view domain,
                                 std::span<const std::uint8_t> message) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (key.secret_key.size() != kSigningSecretKeySize) {
    return InvalidArgument("KEY_INVALID", "the signing key has no secret half");
  }
  const std::vector<std::uint8_t> signed_message = DomainMessage(domain, message);
  Signature sig{};
  if (crypto_sign_detached(sig.data(), nullptr, signed_message.data(), signed_message.size(),
                           key.secret_key.data()) != 0) {
    return Internal("SIGN_FAILED", "crypto_sign_detached failed");
  }
  return sig;
}

bool VerifyWithDomain(const PublicKey& public_key, std::string_view domain,
                      std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t> signature) {
  if (!InitCrypto().ok() || signature.size() != kSignatureSize) return false;
  const std::vector<std::uint8_t> signed_message = DomainMessage(domain, message);
  return crypto_sign_verify_detached(signature.data(), signed_message.data(), signed_message.size(),
                                     public_key.data()) == 0;
}

}  // namespace tearline
