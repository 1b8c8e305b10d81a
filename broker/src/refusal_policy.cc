#include "tearline/broker/refusal_policy.h"

#include <array>

namespace tearline::broker {
namespace {

// Refusals that may not recur: the recipient's directory, clock, disk or inbox quota (its
// operator makes room) can recover.
constexpr std::array<std::string_view, 6> kTransient = {
    "ORIGINATOR_UNKNOWN", "ENVELOPE_NOT_YET_VALID", "INBOX_IO", "INBOX_FULL", "FILE_WRITE",
    "SIGN_FAILED"};

bool LooksLikeReasonCode(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

RefusalKind ClassifyRefusal(std::string_view reason) {
  for (std::string_view t : kTransient) {
    if (reason == t) return RefusalKind::kTransient;
  }
  return RefusalKind::kPermanent;
}

std::string RecordedRefusalReason(std::string_view reason) {
  return LooksLikeReasonCode(reason) ? std::string(reason) : std::string("DELIVERY_REFUSED");
}

}  // namespace tearline::broker
