// Key pairs for the three purposes a Tearline identity needs, and domain-separated Ed25519
// signatures.
//
// Each purpose has its own, independently generated key pair; none is ever derived from
// another (a compromise of one purpose must not expose the others):
//   - signing:    Ed25519 (crypto_sign), signs reports, certificates and revocation lists;
//   - encryption: X25519 (crypto_box), receives per-recipient wrapped report keys;
//   - transport:  X25519 (crypto_box), the CURVE key of the ZeroMQ connection. Kept as raw
//                 32 bytes here; Z85 text is the transport layer's business.
//
// Ownership: secret halves live only in SecretBytes (sodium_malloc'd, wiped on destruction);
// key pairs are therefore move-only. Thread-safety: plain values; the free functions are safe
// to call concurrently.
#ifndef TEARLINE_KEYS_H_
#define TEARLINE_KEYS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/crypto/secure_memory.h"

namespace tearline {

inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSigningSecretKeySize = 64;  // libsodium layout: seed || public key.
inline constexpr std::size_t kBoxSecretKeySize = 32;
inline constexpr std::size_t kSignatureSize = 64;

using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;

// Ed25519 key pair.
struct SigningKeyPair {
  PublicKey public_key{};
  SecretBytes secret_key;  // kSigningSecretKeySize bytes.
};

// X25519 key pair, used both for encryption and for CURVE transport.
struct BoxKeyPair {
  PublicKey public_key{};
  SecretBytes secret_key;  // kBoxSecretKeySize bytes.
};

// The full key set of a broker or node identity.
struct IdentityKeys {
  SigningKeyPair signing;
  BoxKeyPair encryption;
  BoxKeyPair transport;
};

// Fresh random key pairs (libsodium CSPRNG). Calls InitCrypto().
Result<SigningKeyPair> GenerateSigningKeyPair();
Result<BoxKeyPair> GenerateEncryptionKeyPair();  // crypto_box_keypair
Result<BoxKeyPair> GenerateTransportKeyPair();   // crypto_box_keypair, independent draw
// All three, each drawn independently.
Result<IdentityKeys> GenerateIdentityKeys();

// Rebuilds a key pair from its secret half, recomputing the public half (used when loading
// secret files, so that a public key can never disagree with its secret key).
// Reason KEY_INVALID when the secret has the wrong size.
Result<SigningKeyPair> SigningKeyPairFromSecret(SecretBytes secret_key);
Result<BoxKeyPair> BoxKeyPairFromSecret(SecretBytes secret_key);

// Ed25519 signature over `domain || message`. `domain` is a protocol constant such as
// "tearline/v1/certificate" and is used *including* a terminating NUL byte, so that no domain
// can be a prefix of another's message. The concatenation is signed as one message (not
// pre-hashed).
Result<Signature> SignWithDomain(const SigningKeyPair& key, std::string_view domain,
                                 std::span<const std::uint8_t> message);
// True only if `signature` is a valid Ed25519 signature by `public_key` over `domain || NUL ||
// message` (libsodium's strict verification: canonical S, no small-order keys).
bool VerifyWithDomain(const PublicKey& public_key, std::string_view domain,
                      std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t> signature);

}  // namespace tearline

#endif  // TEARLINE_KEYS_H_
