// Provenance arguments of `tearline-node send`: `--derived-from ID:N` and
// `--override-provenance TEXT` apply to the `--portion` they follow, so their meaning depends on
// the order of the command line. This unit turns that order into one entry per portion; the
// daemon resolves the sources (node/provenance_sources.h).
//
// Pure logic. Thread-safety: reentrant.
#ifndef TEARLINE_NODE_PROVENANCE_ARGS_H_
#define TEARLINE_NODE_PROVENANCE_ARGS_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/node/control_protocol.h"

namespace tearline::node {

struct PortionProvenanceArgs {
  std::vector<DerivedFromRef> derived_from;  // Portion indices 0-based, as on the wire.
  std::string override_reason;               // Empty: none.
};

// "ID:N" with ID a report id or unique prefix (4 to 32 hex digits) and N a portion number from
// 1 to 64. Errors: SEND_BAD_DERIVED_FROM.
Result<DerivedFromRef> ParseDerivedFrom(std::string_view text);

// One value of a send option, in command-line order. A `--portion` occurrence yields two values
// (marking, file).
enum class SendArgKind { kPortionValue, kDerivedFrom, kOverride };

// Attaches the i-th `derived_from` and `overrides` value to the portion whose values precede it.
// Returns `portion_count` entries. Errors (SEND_BAD_DERIVED_FROM): an option before any
// --portion, a bad ID:N, more than kMaxSourcesPerPortion sources on a portion, two overrides on
// one portion, an override of the wrong length or with unprintable characters, an override on a
// portion that is not derived.
Result<std::vector<PortionProvenanceArgs>> AttributeProvenance(
    std::span<const SendArgKind> order, std::span<const std::string> derived_from,
    std::span<const std::string> overrides, std::size_t portion_count);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_PROVENANCE_ARGS_H_
