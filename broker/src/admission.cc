#include "tearline/broker/admission.h"

#include <optional>
#include <string>

#include "tearline/labels/label.h"

namespace tearline::broker {

Status CheckOriginatorClaims(const ReportView& report, const Certificate& originator,
                             const Policy& policy) {
  const CertificateFields& cert = originator.fields();
  if (report.originator_nation != cert.nation) {
    return Unauthenticated("ORIGINATOR_NATION_MISMATCH",
                           "the report claims originator nation '" + report.originator_nation +
                               "' but " + originator.node_id() + "'s certificate says '" +
                               cert.nation + "'");
  }
  const std::optional<int> clearance = policy.FindLevel(cert.clearance);
  for (const PortionView& p : report.portions) {
    const std::string where = "portion " + std::to_string(p.index + 1);
    auto label = ParseCanonicalPortion(p.label, policy);
    if (!label.ok()) {
      if (label.status().reason() == "LABEL_NOT_CANONICAL") {
        return label.status().WithContext(where);
      }
      return InvalidArgument("ROUTING_BAD_LABEL",
                             where + " carries an invalid marking: " + label.status().ToString());
    }
    if (!clearance || label->level > *clearance) {
      return PermissionDenied("ABOVE_CLEARANCE", where + " is marked " + p.label +
                                                     ", above the clearance '" + cert.clearance +
                                                     "' of its originator " + originator.node_id() +
                                                     "; nothing was routed");
    }
  }
  return Status::Ok();
}

}  // namespace tearline::broker
