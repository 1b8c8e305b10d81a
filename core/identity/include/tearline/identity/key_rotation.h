// Key rotation: which certificates of one node id are in force at a time T.
//
// A node rotates its keys by being issued a certificate with a higher serial. For an overlap
// window both the new (current) and the immediately preceding (previous) certificate are in
// force for authentication, so a node still running on its previous keys keeps its session and
// copies sealed to the previous encryption key can still be opened. The directory a broker
// serves names only the current certificate, so senders seal to the new key once they refresh.
//
// Selection rule (SelectInForce), over every root-signed node certificate of one node id:
//   - current: the highest serial among the certificates that verify now (trust store:
//     signature, validity window, revocation);
//   - previous: the verifying certificate with the next lower serial, only when no other
//     certificate of that id was issued between the two (so revoking an intermediate serial
//     never brings an older key back) and now < OverlapEnd(previous, current);
//   - every other verifying certificate is retired: its keys are refused.
// OverlapEnd is the earliest of the previous certificate's not_after and the current one's
// not_before + overlap; revocation of the previous serial ends it at once (it no longer
// verifies).
//
// Thread-safety: pure functions.
#ifndef TEARLINE_KEY_ROTATION_H_
#define TEARLINE_KEY_ROTATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tearline/identity/certificate.h"

namespace tearline {

// The broker's default overlap: a week, long enough for every sender to refresh its directory
// and for copies queued for an offline recipient to be delivered.
inline constexpr std::int64_t kDefaultRotationOverlapSeconds = 7 * 24 * 3600;

// End (exclusive, unix seconds) of the window in which `previous` stays in force next to
// `current`.
std::int64_t OverlapEnd(const Certificate& previous, const Certificate& current,
                        std::int64_t overlap_seconds);

struct RotationCandidate {
  const Certificate* cert = nullptr;  // Not owned; root-signed, node role, one node id.
  bool verifies = false;              // TrustStore::VerifyCertificate succeeded now.
};

struct CertificatesInForce {
  std::optional<std::size_t> current;   // Index into the candidates.
  std::optional<std::size_t> previous;  // Index into the candidates.
};

// Applies the selection rule above to `candidates` (any order; serials need not be distinct:
// among equal serials the first verifying one wins).
CertificatesInForce SelectInForce(std::span<const RotationCandidate> candidates,
                                  std::int64_t now_unix, std::int64_t overlap_seconds);

}  // namespace tearline

#endif  // TEARLINE_KEY_ROTATION_H_
