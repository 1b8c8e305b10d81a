#include "tearline/node/sealer.h"

#include <sodium.h>

#include <cctype>
#include <utility>

#include "tearline/envelope/envelope.h"
#include "tearline/labels/label.h"
#include "tearline/labels/provenance_check.h"
#include "tearline/labels/release.h"
#include "tearline/labels/release_plan.h"

namespace tearline::node {
namespace {

void Wipe(std::vector<std::uint8_t>& v) {
  if (!v.empty()) sodium_memzero(v.data(), v.size());
}

// Banner of a sealed report of this node, from its signed portion labels.
std::string BannerOf(const ReportView& view, const Policy& policy) {
  std::vector<Label> labels;
  for (const auto& p : view.portions) {
    auto l = ParseMarking(p.label, policy);
    if (!l.ok()) return "";
    labels.push_back(l->label);
  }
  auto rolled = Rollup(labels, policy);
  return rolled.ok() ? FormatBanner(*rolled, policy) : "";
}

}  // namespace

Sealer::Sealer(const Clock& clock, const NodeIdentity& identity, ProvenanceStores sources)
    : clock_(clock), identity_(identity), sources_(sources) {}

Status Sealer::Validate(ControlRequest& req) const {
  const Policy& policy = *identity_.policy;
  for (auto& n : req.to) {
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!policy.IsNation(n)) {
      return InvalidArgument("SEND_UNKNOWN_NATION",
                             "recipient '" + n + "' is not a nation of the policy");
    }
  }
  if (req.portions.size() > kMaxPortions) {
    return InvalidArgument("SEND_TOO_MANY_PORTIONS",
                           "at most " + std::to_string(kMaxPortions) + " portions");
  }
  for (std::size_t i = 0; i < req.portions.size(); ++i) {
    auto m = ParseMarking(req.portions[i].marking, policy);
    if (!m.ok()) {
      return InvalidArgument(
          "SEND_PORTION_UNMARKED",
          "portion " + std::to_string(i + 1) + " has no valid marking: " + m.status().ToString() +
              "; nothing was sent; mark it, e.g. (S//REL TO " + identity_.nation() + ", ...)");
    }
    if (req.portions[i].content.empty()) {
      return InvalidArgument("SEND_PORTION_EMPTY",
                             "portion " + std::to_string(i + 1) + " is empty");
    }
  }
  return Status::Ok();
}

Result<SealedForOutbox> Sealer::Seal(ControlRequest& request, const Directory& directory) const {
  const Policy& policy = *identity_.policy;
  const auto& me = identity_.own_cert->fields();
  SealInput in;
  in.originator = identity_.node_id;
  in.originator_nation = me.nation;
  in.created_unix = clock_.UnixNow();
  in.expires_unix = in.created_unix + kReportLifetimeSeconds;
  in.intended_nations = request.to;
  std::vector<Recipient> decide_for;
  for (const auto& nation : request.to) {
    for (const Certificate* c : directory.NodesOfNation(nation)) {
      if (c->node_id() == identity_.node_id) continue;
      SealRecipient r;
      r.node_id = c->node_id();
      r.nation = c->fields().nation;
      auto lvl = policy.FindLevel(c->fields().clearance);
      if (!lvl) continue;  // Trust store checked it; be safe anyway.
      r.clearance = *lvl;
      r.enc_public_key = c->fields().encryption_key;
      in.recipients.push_back(r);
      decide_for.push_back(Recipient{r.nation, r.clearance, me.nation});
    }
  }
  auto wipe_all = [&] {
    for (auto& sp : in.portions) Wipe(sp.plaintext);
    for (auto& src : request.portions) Wipe(src.content);
  };
  // Every marking first (the first bad one is the analyst's error), then one release plan for
  // all portions and recipients: the same function the envelope and the broker's routing use.
  std::vector<Label> labels;
  labels.reserve(request.portions.size());
  for (std::size_t i = 0; i < request.portions.size(); ++i) {
    auto marking = ParseMarking(request.portions[i].marking, policy);
    if (!marking.ok()) {
      wipe_all();
      return marking.status().WithContext("portion " + std::to_string(i + 1));
    }
    labels.push_back(std::move(marking->label));
  }
  const ReleasePlan plan = PlanRelease(labels, decide_for, policy);
  for (std::size_t i = 0; i < request.portions.size(); ++i) {
    for (const RecipientRelease& r : plan.recipients) {
      for (const WithheldPortion& w : r.withheld) {
        if (w.portion == i && !w.error.ok()) {
          wipe_all();
          return w.error.WithContext("portion " + std::to_string(i + 1));
        }
      }
    }
    auto& src = request.portions[i];
    SealPortion sp;
    if (!src.derived_from.empty()) {
      auto prov = ResolveProvenance(src, i + 1, sources_, me.nation);
      if (!prov.ok()) {
        wipe_all();
        return prov.status();
      }
      std::vector<std::string> contributors;
      for (const ProvenanceSource& ps : prov->sources) contributors.push_back(ps.nation);
      if (Status st = CheckProvenance(labels[i], contributors, me.nation, prov->override_reason,
                                      "portion " + std::to_string(i + 1), policy);
          !st.ok()) {
        wipe_all();
        return st;
      }
      in.provenance.resize(request.portions.size());
      in.provenance[i] = std::move(prov).value();
    }
    sp.marking = src.marking;
    sp.plaintext = src.content;
    std::vector<std::string> to;
    for (std::size_t r : plan.RecipientsOf(i)) to.push_back(in.recipients[r].node_id);
    sp.recipients = std::move(to);
    in.portions.push_back(std::move(sp));
  }
  auto sealed = tearline::Seal(in, identity_.keys.signing.secret_key, policy);
  if (sealed.ok() && keeper_) {
    std::vector<std::span<const std::uint8_t>> contents;
    for (const auto& sp : in.portions) contents.emplace_back(sp.plaintext);
    keeper_(ReportIdHex(sealed->report_id), sealed->portion_labels, contents);
  }
  wipe_all();
  if (!sealed.ok()) return sealed.status().WithContext("sealing failed (indices from 0)");
  SealedForOutbox out;
  out.report_id_hex = ReportIdHex(sealed->report_id);
  out.bytes = std::move(sealed->bytes);
  out.meta.banner = sealed->banner;
  out.meta.expires_unix = in.expires_unix;
  out.meta.submitted_unix = in.created_unix;
  out.portions = in.portions.size();
  out.recipients = in.recipients.size();
  return out;
}

Result<OutboxEntryMeta> Sealer::Inspect(const std::string& id,
                                        std::span<const std::uint8_t> bytes) const {
  TEARLINE_ASSIGN_OR_RETURN(ReportView view,
                            InspectReport(bytes, identity_.keys.signing.public_key));
  if (ReportIdHex(view.report_id) != id) {
    return InvalidArgument("OUTBOX_ID_MISMATCH", "stored report " + id + " has another id");
  }
  OutboxEntryMeta meta;
  meta.banner = BannerOf(view, *identity_.policy);
  meta.expires_unix = view.expires_unix;
  meta.submitted_unix = view.created_unix;
  return meta;
}

}  // namespace tearline::node
