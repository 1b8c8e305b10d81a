#include "tearline/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "tearline/base/file_util.h"

namespace tearline {
namespace {

constexpr std::uint8_t kMagic[4] = {'T', 'L', 'S', 'K'};
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kIdentityPayloadSize =
    kSigningSecretKeySize + kBoxSecretKeySize + kBoxSecretKeySize;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::size_t ExpectedPayloadSize(SecretFileKind kind) {
  return kind == SecretFileKind::kRootSigning ? kSigningSecretKeySize : kIdentityPayloadSize;
}

}  // namespace

Status WriteSecretFile(const std::filesystem::path& path, SecretFileKind kind,
                       std::span<const std::uint8_t> payload, bool overwrite) {
  const std::string name = path.string();
  if (payload.size() + kSecretFileHeaderSize > kMaxSecretFileSize) {
    return InvalidArgument("KEY_FILE_TOO_LARGE", "secret payload too large for " + name);
  }
  if (!overwrite) {
    struct stat st {};
    if (::lstat(name.c_str(), &st) == 0) {
      return Status(Code::kAlreadyExists, "KEY_FILE_EXISTS",
                    name + " already exists and will not be overwritten");
    }
  }
  // The header and payload are assembled in protected memory so no copy of the key lingers.
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes buffer,
                            SecretBytes::Allocate(kSecretFileHeaderSize + payload.size()));
  std::uint8_t* b = buffer.data();
  std::memcpy(b, kMagic, sizeof kMagic);
  b[4] = kVersion;
  b[5] = static_cast<std::uint8_t>(kind);
  b[6] = 0;
  b[7] = 0;
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) b[8 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  if (!payload.empty()) std::memcpy(b + kSecretFileHeaderSize, payload.data(), payload.size());

  // WriteFileAtomic creates the temporary 0600 before writing and does not copy the buffer, so
  // the key never exists outside protected memory or a 0600 file.
  Status st = WriteFileAtomic(path, {buffer.data(), buffer.size()}, 0600,
                              overwrite ? WriteMode::kReplace : WriteMode::kCreateNew);
  if (st.code() == Code::kAlreadyExists) {
    return Status(Code::kAlreadyExists, "KEY_FILE_EXISTS",
                  name + " already exists and will not be overwritten");
  }
  if (!st.ok()) return IoError("KEY_FILE_WRITE", st.message());
  return Status::Ok();
}

Result<SecretBytes> ReadSecretFile(const std::filesystem::path& path, SecretFileKind kind) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  const std::string name = path.string();
  const int raw = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return NotFound("KEY_FILE_NOT_FOUND", "secret key file " + name + " does not exist");
    }
    return IoError("KEY_FILE_READ", "cannot open " + name + ": " + ErrnoText(err));
  }
  Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return IoError("KEY_FILE_READ", "cannot stat " + name + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("KEY_FILE_MALFORMED", name + " is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    const unsigned bits = st.st_mode & 07777u;
    std::string mode = "0000";
    for (int i = 3; i >= 0; --i)
      mode[static_cast<std::size_t>(3 - i)] = static_cast<char>('0' + ((bits >> (3 * i)) & 7u));
    return PermissionDenied("KEY_FILE_PERMISSIONS",
                            "secret key file " + name + " has mode " + mode +
                                " and is accessible to group or others; run `chmod 600 " + name +
                                "` and consider the key compromised if others could read it");
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxSecretFileSize) {
    return InvalidArgument("KEY_FILE_TOO_LARGE",
                           name + " is larger than " + std::to_string(kMaxSecretFileSize) +
                               " bytes and cannot be a Tearline secret key file");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes buffer, SecretBytes::Allocate(size == 0 ? 1 : size));
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd.get(), buffer.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("KEY_FILE_READ", "cannot read " + name + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  const auto malformed = [&](const std::string& why) {
    return InvalidArgument("KEY_FILE_MALFORMED", name + " is not a valid secret key file: " + why);
  };
  if (got != size || size < kSecretFileHeaderSize) return malformed("too short");
  const std::uint8_t* b = buffer.data();
  if (std::memcmp(b, kMagic, sizeof kMagic) != 0) return malformed("bad magic");
  if (b[4] != kVersion) return malformed("unsupported version " + std::to_string(b[4]));
  if (b[5] != static_cast<std::uint8_t>(kind)) {
    return malformed(b[5] == static_cast<std::uint8_t>(SecretFileKind::kRootSigning)
                         ? "it holds a root key, not identity keys"
                         : "it does not hold the expected kind of key");
  }
  if (b[6] != 0 || b[7] != 0) return malformed("reserved bytes are not zero");
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(b[8 + i]) << (8 * i);
  if (n != ExpectedPayloadSize(kind) || size != kSecretFileHeaderSize + n) {
    return malformed("payload length does not match the key kind");
  }
  return SecretBytes::CopyOf(std::span<const std::uint8_t>(b + kSecretFileHeaderSize, n));
}

Status WriteRootSecret(const std::filesystem::path& path, const SigningKeyPair& root,
                       bool overwrite) {
  if (root.secret_key.size() != kSigningSecretKeySize) {
    return InvalidArgument("KEY_INVALID", "the root key pair has no secret half");
  }
  return WriteSecretFile(path, SecretFileKind::kRootSigning, root.secret_key.span(), overwrite);
}

Result<SigningKeyPair> ReadRootSecret(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes payload,
                            ReadSecretFile(path, SecretFileKind::kRootSigning));
  auto pair = SigningKeyPairFromSecret(std::move(payload));
  if (!pair.ok()) return pair.status().WithContext(path.string());
  return pair;
}

Status WriteIdentitySecret(const std::filesystem::path& path, const IdentityKeys& keys,
                           bool overwrite) {
  if (keys.signing.secret_key.size() != kSigningSecretKeySize ||
      keys.encryption.secret_key.size() != kBoxSecretKeySize ||
      keys.transport.secret_key.size() != kBoxSecretKeySize) {
    return InvalidArgument("KEY_INVALID", "the identity keys are incomplete");
  }
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes payload, SecretBytes::Allocate(kIdentityPayloadSize));
  std::uint8_t* p = payload.data();
  std::memcpy(p, keys.signing.secret_key.data(), kSigningSecretKeySize);
  std::memcpy(p + kSigningSecretKeySize, keys.encryption.secret_key.data(), kBoxSecretKeySize);
  std::memcpy(p + kSigningSecretKeySize + kBoxSecretKeySize, keys.transport.secret_key.data(),
              kBoxSecretKeySize);
  return WriteSecretFile(path, SecretFileKind::kIdentity, payload.span(), overwrite);
}

Result<IdentityKeys> ReadIdentitySecret(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes payload, ReadSecretFile(path, SecretFileKind::kIdentity));
  const std::span<const std::uint8_t> all = payload.span();
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes sign, SecretBytes::CopyOf(all.subspan(0, 64)));
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes enc, SecretBytes::CopyOf(all.subspan(64, 32)));
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes transport, SecretBytes::CopyOf(all.subspan(96, 32)));
  IdentityKeys keys;
  auto s = SigningKeyPairFromSecret(std::move(sign));
  if (!s.ok()) return s.status().WithContext(path.string());
  keys.signing = std::move(s).value();
  TEARLINE_ASSIGN_OR_RETURN(keys.encryption, BoxKeyPairFromSecret(std::move(enc)));
  TEARLINE_ASSIGN_OR_RETURN(keys.transport, BoxKeyPairFromSecret(std::move(transport)));
  return keys;
}

}  // namespace tearline
