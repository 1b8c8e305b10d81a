// Secret key files (".secret"): the only place a Tearline secret key is ever stored.
//
// Format (version 1, all integers little-endian), exactly kSecretFileHeaderSize + payload bytes:
//   offset 0  4 bytes  magic "TLSK"
//   offset 4  1 byte   format version, 1
//   offset 5  1 byte   kind: 1 = root signing key, 2 = identity (broker or node) keys
//   offset 6  2 bytes  reserved, zero
//   offset 8  4 bytes  payload length N
//   offset 12 N bytes  payload:
//       kind 1: Ed25519 secret key (64 bytes, libsodium layout seed || public key)
//       kind 2: Ed25519 secret key (64) || X25519 encryption secret (32) || CURVE secret (32)
// Nothing may follow the payload. Public keys are recomputed from the secrets on load.
//
// Files are written atomically (a fresh O_EXCL temporary with mode 0600 in the same directory,
// fsync, rename) and read only when no group or other permission bit is set; otherwise reading
// fails with reason KEY_FILE_PERMISSIONS and a sentence naming the fix (`chmod 600 FILE`).
// Key material read from disk goes straight into SecretBytes.
//
// Thread-safety: the functions are reentrant; concurrent writers of the same path race (the
// last rename wins, the file is never half-written).
#ifndef TEARLINE_KEY_FILE_H_
#define TEARLINE_KEY_FILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"

namespace tearline {

inline constexpr std::size_t kSecretFileHeaderSize = 12;
// Larger files are refused before reading: no legitimate secret file comes near this.
inline constexpr std::size_t kMaxSecretFileSize = 4096;

enum class SecretFileKind : std::uint8_t {
  kRootSigning = 1,
  kIdentity = 2,
};

// Writes `payload` (already in protected memory) as a secret file of `kind`. Replaces an
// existing file at `path` atomically when `overwrite` is true (key rotation), otherwise fails
// with KEY_FILE_EXISTS. Errors: KEY_FILE_WRITE (IoError) naming the path and errno text.
Status WriteSecretFile(const std::filesystem::path& path, SecretFileKind kind,
                       std::span<const std::uint8_t> payload, bool overwrite);

// Reads a secret file, checking permissions, size, magic, version and kind. The payload is
// returned in SecretBytes. Errors: KEY_FILE_NOT_FOUND, KEY_FILE_PERMISSIONS (PermissionDenied),
// KEY_FILE_TOO_LARGE, KEY_FILE_MALFORMED, KEY_FILE_READ.
Result<SecretBytes> ReadSecretFile(const std::filesystem::path& path, SecretFileKind kind);

// Typed helpers for the two kinds.
Status WriteRootSecret(const std::filesystem::path& path, const SigningKeyPair& root,
                       bool overwrite);
Result<SigningKeyPair> ReadRootSecret(const std::filesystem::path& path);
Status WriteIdentitySecret(const std::filesystem::path& path, const IdentityKeys& keys,
                           bool overwrite);
Result<IdentityKeys> ReadIdentitySecret(const std::filesystem::path& path);

}  // namespace tearline

#endif  // TEARLINE_KEY_FILE_H_
