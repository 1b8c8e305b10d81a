// ProvenanceGate: the broker's defence-in-depth check of derived portions. The broker cannot read
// content, but it reads the provenance each originator signed into a portion (sources and their
// contributing nations) and refuses a report whose label excludes a contributor without an
// override reason, exactly as the originating node should have (a certified node may skip its
// own check). It also turns the signed provenance into the accepted record's fields.
//
// Pure functions over a verified ReportView. Thread-safety: reentrant.
#ifndef TEARLINE_BROKER_PROVENANCE_GATE_H_
#define TEARLINE_BROKER_PROVENANCE_GATE_H_

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/status.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/policy.h"

namespace tearline::broker {

// Ok when every derived portion's label releases to each contributor or carries an override
// reason. A label that does not parse is left to routing (which denies it with its own reason).
// Errors: PROVENANCE_EXCLUDES_CONTRIBUTOR (naming the portion, from 1, and the contributors),
// RELEASE_* for a contributor nation the policy does not define.
[[nodiscard]] Status CheckReportProvenance(const ReportView& view, const Policy& policy);

}  // namespace tearline::broker

namespace tearline {

// Sets the accepted record's provenance fields of one portion (left unset when not derived).
void DescribeProvenance(const PortionProvenance& provenance, AcceptedPortion& out);

}  // namespace tearline

#endif  // TEARLINE_BROKER_PROVENANCE_GATE_H_
