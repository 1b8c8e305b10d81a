// Admission: what a report's originator claims about itself, checked against its certificate
// before the broker routes anything. The envelope's signature proves only that the node said
// it; the certificate says what the node may say:
//   - the header's originator nation is the certificate's nation (ORIGINATOR_NATION_MISMATCH):
//     a node cannot borrow another nation's NOFORN or REL TO rights;
//   - every portion label is exactly its canonical portion form (LABEL_NOT_CANONICAL, or
//     ROUTING_BAD_LABEL when it does not parse at all): the broker, recipients and
//     `tearline-audit verify` then read the same bytes the same way;
//   - no portion is classified above the originator's clearance (ABOVE_CLEARANCE): a node cannot
//     originate what it is not cleared to hold.
//
// Thread-safety: pure function.
#ifndef TEARLINE_BROKER_ADMISSION_H_
#define TEARLINE_BROKER_ADMISSION_H_

#include "tearline/base/status.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/labels/policy.h"

namespace tearline::broker {

// OK, or the first claim that `originator` (the certificate of report.originator) does not
// back, with a reason above and a message naming the portion (1-based) or the nations.
[[nodiscard]] Status CheckOriginatorClaims(const ReportView& report, const Certificate& originator,
                                           const Policy& policy);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_ADMISSION_H_
