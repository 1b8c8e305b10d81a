#include "tearline/broker/provenance_gate.h"

#include <algorithm>
#include <string>
#include <vector>

#include "tearline/labels/label.h"
#include "tearline/labels/provenance_check.h"

namespace tearline {
namespace {

std::vector<std::string> ContributorsOf(const PortionProvenance& provenance) {
  std::vector<std::string> nations;
  for (const ProvenanceSource& s : provenance.sources) {
    if (std::find(nations.begin(), nations.end(), s.nation) == nations.end()) {
      nations.push_back(s.nation);
    }
  }
  return nations;
}

}  // namespace

void DescribeProvenance(const PortionProvenance& provenance, AcceptedPortion& out) {
  if (!provenance.sources.empty()) {
    std::vector<std::string> sources;
    for (const ProvenanceSource& s : provenance.sources) {
      sources.push_back(ReportIdHex(s.report_id) + "/" + std::to_string(s.portion));
    }
    out.sources = std::move(sources);
    out.contributors = ContributorsOf(provenance);
  }
  if (!provenance.override_reason.empty()) out.provenance_override = provenance.override_reason;
}

namespace broker {

Status CheckReportProvenance(const ReportView& view, const Policy& policy) {
  for (const PortionView& p : view.portions) {
    if (p.provenance.sources.empty()) continue;
    auto label = ParseLabel(p.label, policy);
    if (!label.ok()) continue;
    const std::vector<std::string> contributors = ContributorsOf(p.provenance);
    if (Status s = CheckProvenance(*label, contributors, view.originator_nation,
                                   p.provenance.override_reason,
                                   "portion " + std::to_string(p.index + 1), policy);
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace broker
}  // namespace tearline
