#include "baselines.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <vector>

namespace tearline::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Elapsed(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

double Ed25519VerifyRate(double seconds) {
  if (sodium_init() < 0) return 0;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  std::array<unsigned char, 128> msg{};
  randombytes_buf(msg.data(), msg.size());
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
  std::uint64_t n = 0;
  const auto t0 = Clock::now();
  int failures = 0;
  do {
    for (int i = 0; i < 64; ++i) {
      failures += crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data());
    }
    n += 64;
  } while (Elapsed(t0) < seconds);
  return failures == 0 ? static_cast<double>(n) / Elapsed(t0) : 0;
}

double Sha256MibRate(double seconds) {
  if (sodium_init() < 0) return 0;
  std::vector<unsigned char> buf(std::size_t{1} << 20);
  randombytes_buf(buf.data(), buf.size());
  std::array<unsigned char, crypto_hash_sha256_BYTES> out{};
  std::uint64_t mib = 0;
  const auto t0 = Clock::now();
  do {
    crypto_hash_sha256(out.data(), buf.data(), buf.size());
    buf[0] = out[0];  // Each pass depends on the last: nothing can be hoisted.
    ++mib;
  } while (Elapsed(t0) < seconds);
  return static_cast<double>(mib) / Elapsed(t0);
}

namespace {

// Writes one 4 KiB block with `write_block` and fdatasyncs it, for `seconds`, in a probe file
// `name` of `dir` opened with `extra_flags`; returns the rate. The two floors differ only in how
// the block is written.
template <typename WriteBlock>
Result<double> SyncedWriteRate(const std::filesystem::path& dir, const char* name, int extra_flags,
                               double seconds, const char* what, WriteBlock write_block) {
  const auto path = dir / name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | extra_flags, 0600);
  if (fd < 0) return IoError("BENCH_BASELINE", "cannot create " + path.string());
  std::array<char, 4096> block{};
  std::uint64_t n = 0;
  bool ok = true;
  const auto t0 = Clock::now();
  do {
    ok = write_block(fd, block) == static_cast<ssize_t>(block.size()) && ::fdatasync(fd) == 0;
    ++n;
  } while (ok && Elapsed(t0) < seconds);
  const double rate = static_cast<double>(n) / Elapsed(t0);
  ::close(fd);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (!ok) return IoError("BENCH_BASELINE", std::string(what) + " failed in " + dir.string());
  return rate;
}

}  // namespace

Result<double> FdatasyncRate(const std::filesystem::path& dir, double seconds) {
  // Overwrite one block, as an append-and-sync log does per record.
  return SyncedWriteRate(dir, "fdatasync.probe", 0, seconds, "write or fdatasync",
                         [](int fd, const std::array<char, 4096>& block) {
                           return ::pwrite(fd, block.data(), block.size(), 0);
                         });
}

Result<double> AppendFdatasyncRate(const std::filesystem::path& dir, double seconds) {
  // Each write grows the file, as an inbox file, an audit record or a WAL frame does: the size
  // change is metadata that fdatasync must commit too.
  return SyncedWriteRate(dir, "append.probe", O_APPEND, seconds, "append or fdatasync",
                         [](int fd, const std::array<char, 4096>& block) {
                           return ::write(fd, block.data(), block.size());
                         });
}

std::string FilesystemType(const std::filesystem::path& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0x01021994UL:
      return "tmpfs";
    case 0xEF53UL:
      return "ext4";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x794C7630UL:
      return "overlayfs";
    default: {
      std::array<char, 32> hex{};
      std::snprintf(hex.data(), hex.size(), "0x%lx", static_cast<unsigned long>(s.f_type));
      return hex.data();
    }
  }
}

}  // namespace tearline::bench
