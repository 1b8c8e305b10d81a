// What this machine can do at best, measured in the same run as Tearline so that Tearline's
// figures are printed as ratios that survive a change of machine: one core's Ed25519 verify and
// SHA-256 rates (libsodium, the library Tearline uses), the disk's fdatasync rate in the run's
// own directory, and a bare CURVE relay (curve_relay.h).
//
// Thread-safety: each function runs alone on the calling thread (the relay starts its own).
#ifndef TEARLINE_BENCH_LOAD_BASELINES_H_
#define TEARLINE_BENCH_LOAD_BASELINES_H_

#include <cstddef>
#include <filesystem>
#include <string>

#include "tearline/base/status.h"

namespace tearline::bench {

struct Baselines {
  double ed25519_verify_per_s = 0;  // One core; 128-byte messages (a report header's order).
  double sha256_mib_per_s = 0;      // One core; 1 MiB buffers.
  double fdatasync_per_s = 0;       // 4 KiB overwrite + fdatasync, in the run's directory.
  // 4 KiB append (the file grows) + fdatasync, same directory: what a durable hop that stores
  // new data needs at least. On ext4 a size change commits the journal; an overwrite does not.
  double append_fdatasync_per_s = 0;
  std::string filesystem;       // Type of that directory's filesystem (tmpfs makes syncs free).
  double relay_msgs_per_s = 0;  // Bare CURVE ROUTER relay, the run's message size.
  double relay_mib_per_s = 0;
};

// Each measures for about `seconds` of wall time.
double Ed25519VerifyRate(double seconds);
double Sha256MibRate(double seconds);
// Errors: BENCH_BASELINE when the directory cannot be written.
Result<double> FdatasyncRate(const std::filesystem::path& dir, double seconds);
// Appends of 4 KiB to a new file, each followed by fdatasync (write + fdatasync, nothing else).
// Errors: BENCH_BASELINE.
Result<double> AppendFdatasyncRate(const std::filesystem::path& dir, double seconds);
std::string FilesystemType(const std::filesystem::path& dir);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_BASELINES_H_
