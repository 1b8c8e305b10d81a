#include "tearline/identity/key_rotation.h"

#include <algorithm>
#include <limits>

namespace tearline {

std::int64_t OverlapEnd(const Certificate& previous, const Certificate& current,
                        std::int64_t overlap_seconds) {
  const std::int64_t from = current.fields().not_before;
  // Saturate: a huge configured overlap must not wrap around into the past.
  const std::int64_t until = overlap_seconds > std::numeric_limits<std::int64_t>::max() - from
                                 ? std::numeric_limits<std::int64_t>::max()
                                 : from + std::max<std::int64_t>(overlap_seconds, 0);
  return std::min(previous.fields().not_after, until);
}

CertificatesInForce SelectInForce(std::span<const RotationCandidate> candidates,
                                  std::int64_t now_unix, std::int64_t overlap_seconds) {
  CertificatesInForce out;
  auto serial = [&](std::size_t i) { return candidates[i].cert->fields().serial; };
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates[i].verifies) continue;
    if (!out.current || serial(i) > serial(*out.current)) out.current = i;
  }
  if (!out.current) return out;
  const std::uint64_t current_serial = serial(*out.current);
  // The certificate issued immediately before the current one, whether or not it verifies: if
  // it does not (revoked, expired), nothing older may stand in for it.
  std::optional<std::size_t> before;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (serial(i) >= current_serial) continue;
    if (!before || serial(i) > serial(*before) ||
        (serial(i) == serial(*before) && candidates[i].verifies && !candidates[*before].verifies)) {
      before = i;
    }
  }
  if (!before || !candidates[*before].verifies) return out;
  const Certificate& current = *candidates[*out.current].cert;
  if (now_unix < OverlapEnd(*candidates[*before].cert, current, overlap_seconds)) {
    out.previous = before;
  }
  return out;
}

}  // namespace tearline
