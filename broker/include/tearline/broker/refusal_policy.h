// RefusalPolicy: whether a recipient's refusal of a delivered copy can change if the broker sends
// the same bytes again. The broker counts permanent refusals and gives the copy up (`failed`)
// after a bounded number; a transient refusal only delays the next attempt, and the copy still
// leaves the store at the latest when its report expires (within the policy's expiry horizon).
//
// The table (docs/PROTOCOL.md, "Refused deliveries", says the same):
//   transient: ORIGINATOR_UNKNOWN (the recipient's directory may be refreshed),
//              ENVELOPE_NOT_YET_VALID (clock skew), INBOX_IO, FILE_WRITE, SIGN_FAILED (the
//              recipient's own storage or signing failed);
//   permanent: every other reason, including every other ENVELOPE_* verification reason
//              (cannot decrypt, key mismatch, bad signature, not a recipient, ...),
//              ORIGINATOR_NATION_MISMATCH, NODE_LABEL_INVALID, NODE_LABEL_NOT_RELEASABLE, and
//              reasons the broker does not know: a recipient cannot keep a copy cycling forever
//              by inventing one.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_BROKER_REFUSAL_POLICY_H_
#define TEARLINE_BROKER_REFUSAL_POLICY_H_

#include <string>
#include <string_view>

namespace tearline::broker {

enum class RefusalKind { kTransient, kPermanent };

RefusalKind ClassifyRefusal(std::string_view reason);

// The reason a refusal is recorded under: `reason` when it looks like a reason code (1 to 64
// of A-Z, 0-9, _ starting with a letter), else DELIVERY_REFUSED; a recipient's text never
// reaches the audit log unchecked.
std::string RecordedRefusalReason(std::string_view reason);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_REFUSAL_POLICY_H_
