#include "tearline/node/provenance_sources.h"

#include <algorithm>
#include <string>

#include "tearline/base/encoding.h"

namespace tearline::node {
namespace {

Result<ReportId> IdFromHex(std::string_view hex) {
  auto bytes = FromHex(hex);
  if (!bytes.ok() || bytes->size() != kReportIdBytes) {
    return InvalidArgument("INBOX_CORRUPT",
                           "stored report id '" + std::string(hex) + "' is not 32 hex digits");
  }
  ReportId id{};
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

// A source this node received: the originator's report and nation, also for a forwarded copy.
Result<ProvenanceSource> FromInbox(const InboxEntry& e, const DerivedFromRef& ref,
                                   const std::string& where) {
  const bool held = std::any_of(e.portions.begin(), e.portions.end(),
                                [&](const InboxPortion& p) { return p.index == ref.portion; });
  if (!held) {
    return NotFound("PROVENANCE_SOURCE_PORTION",
                    where + ": portion " + std::to_string(ref.portion + 1) + " of report " +
                        e.report_id_hex +
                        " was not released to this node; derive only from portions `tearline-node "
                        "read` shows");
  }
  const std::string& id_hex = e.forwarder.empty() ? e.report_id_hex : e.forwarded_report_id_hex;
  auto id = IdFromHex(id_hex);
  if (!id.ok()) return id.status().WithContext(where);
  return ProvenanceSource{*id, ref.portion, e.originator_nation};
}

// A source this node sent: ids of the sent store matching the id_prefix.
Result<std::optional<std::string>> FindSent(const SentStore& sent, std::string_view id_prefix,
                                            const std::string& where) {
  auto ids = sent.List();
  if (!ids.ok()) return ids.status().WithContext(where);
  std::optional<std::string> found;
  for (const std::string& id : *ids) {
    if (id.compare(0, id_prefix.size(), id_prefix) != 0) continue;
    if (found) {
      return InvalidArgument("INBOX_AMBIGUOUS_ID",
                             where + ": '" + std::string(id_prefix) +
                                 "' matches more than one sent report; give more digits");
    }
    found = id;
  }
  return found;
}

}  // namespace

Result<PortionProvenance> ResolveProvenance(const SendPortionRequest& portion, std::size_t number,
                                            const ProvenanceStores& stores,
                                            std::string_view own_nation) {
  PortionProvenance out;
  out.override_reason = portion.override_provenance;
  const std::string where = "portion " + std::to_string(number);
  for (const DerivedFromRef& ref : portion.derived_from) {
    const std::string what =
        where + " --derived-from " + ref.id + ":" + std::to_string(ref.portion + 1);
    if (stores.inbox != nullptr) {
      auto entry = stores.inbox->Find(ref.id);
      if (entry.ok()) {
        TEARLINE_ASSIGN_OR_RETURN(ProvenanceSource src, FromInbox(*entry, ref, what));
        out.sources.push_back(std::move(src));
        continue;
      }
      if (entry.status().reason() != "INBOX_NOT_FOUND") return entry.status().WithContext(what);
    }
    if (stores.sent != nullptr) {
      TEARLINE_ASSIGN_OR_RETURN(auto sent_id, FindSent(*stores.sent, ref.id, what));
      if (sent_id) {
        auto id = IdFromHex(*sent_id);
        if (!id.ok()) return id.status().WithContext(what);
        out.sources.push_back(ProvenanceSource{*id, ref.portion, std::string(own_nation)});
        continue;
      }
    }
    return NotFound("PROVENANCE_SOURCE_UNKNOWN",
                    what +
                        ": this node neither received nor sent a report with that id; "
                        "see `tearline-node inbox` for the ids of received reports");
  }
  return out;
}

}  // namespace tearline::node
