// ReleaseDecisionCheck: does a release decision record say what the originator signed?
//
// The broker writes one record per decision on a release request (`release_decided`,
// `release_auto_approved`, `release_sanitised`; docs/AUDIT.md). The decision is the
// originator's, not the broker's: the originator node signs a ReleaseDecisionBody
// (docs/PROTOCOL.md, domain "tearline/v1/release-decision") and the broker copies the exact
// signed bytes into the record's `decision_body` (standard base64) beside `signature`. An auditor
// can therefore check, without trusting the broker, that
//   - the body is a well-formed ReleaseDecisionBody (FlatBuffers Verifier, the wire's caps);
//   - `signature` is the originator's Ed25519 signature over it, under one of the keys the
//     caller found certified for the record's `originator` at the record's time;
//   - every field the record states agrees with the body: request, report, portion, nation,
//     approved or denied, the new label, the released report, the rule (release_auto_approved
//     iff a rule), sanitised (release_sanitised iff sanitised, unless a rule approved it), and
//     the denial's explanation. Text fields are compared as the audit log stores them
//     (BoundAuditText), since every record string passes that bound when it is written.
// So a broker cannot invent, reverse or re-target a release and still pass `verify`.
//
// Reasons: AUDIT_RELEASE_UNSIGNED (no or unreadable `decision_body`/`signature`),
// AUDIT_RELEASE_SIGNATURE (no key of the originator signed these bytes),
// AUDIT_RELEASE_MISMATCH (the record says something the signed body does not).
// Cost: one base64 decode, one FlatBuffers verify and one Ed25519 verification per candidate key.
// Thread-safety: a pure function.
#ifndef TEARLINE_AUDIT_RELEASE_DECISION_CHECK_H_
#define TEARLINE_AUDIT_RELEASE_DECISION_CHECK_H_

#include <span>
#include <string_view>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"

namespace tearline {

// `type`: the record's type (one of the three above). `originator_keys`: the signing keys of the
// certificates of `fields.originator` that are valid under the coalition root at the record's
// time (the caller checks the certificates; an empty span fails with AUDIT_RELEASE_SIGNATURE).
[[nodiscard]] Status CheckReleaseDecisionRecord(std::string_view type,
                                                const ReleaseDecisionFields& fields,
                                                std::span<const PublicKey> originator_keys);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_RELEASE_DECISION_CHECK_H_
