// Provenance sources of a derived portion: resolves each `--derived-from ID:N` against what this
// node really holds, so the signed provenance names the true contributor. A source must be a
// report in the inbox (received; for a forwarded copy the originator's report id and nation are
// recorded, never the forwarder's) or one this node sent (its own nation contributed it).
//
// Ownership: reads the stores it is given (not owned). Thread-safety: the daemon's loop thread,
// as the stores.
#ifndef TEARLINE_NODE_PROVENANCE_SOURCES_H_
#define TEARLINE_NODE_PROVENANCE_SOURCES_H_

#include <cstddef>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/envelope/envelope.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/outbox_store.h"

namespace tearline::node {

struct ProvenanceStores {
  const InboxStore* inbox = nullptr;  // Received reports.
  const SentStore* sent = nullptr;    // Reports this node sent; may be null.
};

// The provenance to sign into portion `number` (from 1, for messages): one source per
// derived_from entry, plus the override reason as given. Errors: PROVENANCE_SOURCE_UNKNOWN (no
// such report received or sent), PROVENANCE_SOURCE_PORTION (the portion was not released to this
// node), INBOX_AMBIGUOUS_ID, INBOX_* / SENT_* storage errors; each names the portion.
Result<PortionProvenance> ResolveProvenance(const SendPortionRequest& portion, std::size_t number,
                                            const ProvenanceStores& stores,
                                            std::string_view own_nation);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_PROVENANCE_SOURCES_H_
