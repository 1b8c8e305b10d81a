#include "tearline/tools/audit_stats.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "tearline/audit/audit_record_types.h"
#include "tearline/audit/audit_records.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/provenance_check.h"
#include "tearline/labels/release.h"

namespace tearline::tools {
namespace {

void CountProvenance(const AcceptedRecord& a, const Policy* policy, AuditStats& s) {
  for (const AcceptedPortion& p : a.portions) {
    if (!p.sources && !p.contributors) continue;
    ProvenanceStats& st = s.provenance[a.originator_nation.empty() ? "?" : a.originator_nation];
    ++st.derived_portions;
    const bool overridden = p.provenance_override.has_value();
    if (overridden) {
      ++st.overrides;
      ++st.override_reasons[*p.provenance_override];
    }
    const std::vector<std::string> contributors = p.contributors.value_or(
        std::vector<std::string>{});
    std::uint64_t excluded = overridden ? contributors.size() : 0;
    if (policy != nullptr) {
      if (auto label = ParseLabel(p.label, *policy); label.ok()) {
        if (auto out = ExcludedContributors(*label, contributors, a.originator_nation, *policy);
            out.ok()) {
          excluded = out->size();
        }
      }
    }
    st.contributors_excluded += excluded;
    st.contributors_kept += contributors.size() - std::min<std::uint64_t>(excluded,
                                                                           contributors.size());
  }
}

// What a delivery's turnaround is measured from: an accepted report or an accepted forward.
struct Submitted {
  double time = 0;
  std::string originator_nation;
};

// The roll-up figures of one accepted report (NOFORN banner, unmarked classified portion).
void CountMarkings(const std::vector<std::string>& texts, const Policy* policy, AuditStats& s) {
  ++s.accepted;
  if (policy == nullptr) {
    s.rollup_available = false;
    return;
  }
  std::vector<Label> labels;
  bool unmarked = false;
  bool parsed_all = !texts.empty();
  for (const auto& text : texts) {
    auto label = ParseLabel(text, *policy);
    if (!label.ok()) {
      parsed_all = false;
      break;
    }
    if (!label->has_rel_to && !label->noforn && label->level > 0) unmarked = true;
    labels.push_back(*label);
  }
  bool noforn = false;
  if (parsed_all) {
    auto banner = Rollup(labels, *policy);
    noforn = banner.ok() && banner->noforn;
  }
  if (noforn) ++s.noforn_banner;
  if (unmarked) ++s.unmarked_portion;
  if (noforn || unmarked) ++s.either;
}

double NearestRank(const std::vector<double>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n)));
  return sorted[std::min(rank, sorted.size()) - 1];
}

}  // namespace

Turnaround SummariseTurnaround(std::vector<double> seconds) {
  Turnaround t;
  if (seconds.empty()) return t;
  std::sort(seconds.begin(), seconds.end());
  t.count = seconds.size();
  t.p50 = NearestRank(seconds, 0.5);
  t.p90 = NearestRank(seconds, 0.9);
  t.max = seconds.back();
  return t;
}

std::string PairName(std::string_view from, std::string_view to) {
  return std::string(from.empty() ? "?" : from) + " -> " + std::string(to.empty() ? "?" : to);
}

AuditStats ComputeAuditStats(const std::vector<AuditRecord>& records, const Policy* policy) {
  AuditStats s;
  std::map<std::string, Submitted> submitted;  // Report or forward id -> when, from where.
  std::map<std::pair<std::string, std::string>, std::string> queued_nation;
  std::set<std::pair<std::string, std::string>> delivered;
  std::map<std::string, std::string> nation_of;  // Node id -> nation, as deliveries name it.
  // A delivery to `recipient` of report `id`: counted once per recipient in the matrix, with
  // the turnaround from acceptance. A delivery from the queue names no nation: the queued
  // record's stands.
  const auto deliver = [&](const AuditRecord& r, const std::string& id,
                           const std::string& recipient, const std::optional<std::string>& logged,
                           const std::optional<std::string>& originator_nation) {
    const auto key = std::make_pair(id, recipient);
    std::string nation;
    if (logged) {
      nation = *logged;
    } else if (auto q = queued_nation.find(key); q != queued_nation.end()) {
      nation = q->second;
    }
    if (!nation.empty()) nation_of[recipient] = nation;
    if (delivered.contains(key)) return;  // Count a report once per recipient.
    delivered.insert(key);
    auto sub = submitted.find(id);
    std::string from = sub != submitted.end() ? sub->second.originator_nation : "";
    if (originator_nation) from = *originator_nation;
    if (from.empty()) from = "?";
    if (nation.empty()) nation = "?";
    ++s.matrix[from][nation];
    s.from_nations.insert(from);
    s.to_nations.insert(nation);
    if (sub != submitted.end()) {
      s.latencies.push_back(r.time - sub->second.time);
      s.delivery_by_pair[PairName(from, nation)].push_back(r.time - sub->second.time);
    }
  };
  std::map<std::string, std::pair<std::string, double>> requests;  // id -> pair, time.
  const auto decided = [&](const AuditRecord& r, const ReleaseDecisionFields& d, bool automatic,
                           bool sanitised) {
    auto q = requests.find(d.request_id);
    if (q == requests.end()) return;
    ReleasePairStats& p = s.releases[q->second.first];
    p.turnaround.push_back(r.time - q->second.second);
    if (d.decision == "approved") {
      ++p.approved;
      if (automatic) ++p.automatic;
      if (sanitised) ++p.sanitised;
    } else {
      ++p.denied;
      ++s.release_denials[d.explanation.value_or("")];
    }
    requests.erase(q);
  };
  for (const AuditRecord& r : records) {
    ++s.types[r.type];
    auto decoded = DecodeAuditRecord(r);
    if (!decoded.ok()) continue;
    if (const auto* a = std::get_if<AcceptedRecord>(&*decoded)) {
      std::vector<std::string> labels;
      for (const AcceptedPortion& p : a->portions) labels.push_back(p.label);
      CountMarkings(labels, policy, s);
      CountProvenance(*a, policy, s);
      submitted[a->report_id] = {r.time, a->originator_nation};
    } else if (const auto* d = std::get_if<DeniedRecord>(&*decoded)) {
      ++s.denied_by_reason[d->reason];
      ++s.denied_by_nation[d->nation.empty() ? "(none)" : d->nation];
    } else if (const auto* q = std::get_if<QueuedRecord>(&*decoded)) {
      queued_nation[{q->report_id, q->recipient}] = q->nation;
      nation_of[q->recipient] = q->nation;
    } else if (const auto* l = std::get_if<DeliveredRecord>(&*decoded)) {
      deliver(r, l->report_id, l->recipient, l->nation, l->originator_nation);
    } else if (const auto* f = std::get_if<DeliveredFromQueueRecord>(&*decoded)) {
      deliver(r, f->report_id, f->recipient, std::nullopt, std::nullopt);
    } else if (const auto* fw = std::get_if<ForwardedRecord>(&*decoded)) {
      // The forwarded copies' deliveries name the forward id: timed from the forward.
      submitted[fw->forward_id] = {r.time, fw->originator_nation};
      nation_of[fw->forwarder] = fw->forwarder_nation;
      ++s.forwards[PairName(fw->forwarder_nation, fw->target_nation)].forwarded;
    } else if (const auto* fr = std::get_if<ForwardRefusedRecord>(&*decoded)) {
      // The refusal names the forwarder's node only: its nation is the one its copies went to.
      const auto n = nation_of.find(fr->node);
      ForwardPairStats& p = s.forwards[PairName(n == nation_of.end() ? "" : n->second,
                                                fr->target_nation.value_or(""))];
      ++p.refused;
      ++p.refused_by_reason[fr->reason];
    } else if (const auto* rq = std::get_if<ReleaseRequestedRecord>(&*decoded)) {
      auto sub = submitted.find(rq->report_id);
      const std::string pair =
          PairName(sub != submitted.end() ? sub->second.originator_nation : "", rq->to_nation);
      ++s.releases[pair].requested;
      requests[rq->request_id] = {pair, r.time};
    } else if (const auto* rd = std::get_if<ReleaseDecidedRecord>(&*decoded)) {
      decided(r, *rd, false, false);
    } else if (const auto* ra = std::get_if<ReleaseAutoApprovedRecord>(&*decoded)) {
      decided(r, *ra, true, false);
    } else if (const auto* rs = std::get_if<ReleaseSanitisedRecord>(&*decoded)) {
      decided(r, *rs, false, true);
    }
  }
  std::sort(s.latencies.begin(), s.latencies.end());
  return s;
}

}  // namespace tearline::tools
