// `tearline-node check-config --config FILE`: validates a node configuration and the files it
// names without starting the daemon (no socket, nothing written):
//   the file itself (keys, types, ranges: LoadNodeConfig), then the identity exactly as the
//   daemon loads it at start (policy, ca_dir, secret, certificate: role node, id matches, keys
//   match, clearance known to the policy), the pinned broker_certificate (verifies under the
//   coalition root, role broker), and data_dir exists or can be made.
// Errors are one Status, CONFIG_NOT_FOUND / CONFIG_TOO_LARGE / CONFIG_INVALID, whose message
// begins "FILE:LINE:" at the key naming what is wrong.
// Thread-safety: reentrant; reads files only.
#ifndef TEARLINE_NODE_NODE_CONFIG_CHECK_H_
#define TEARLINE_NODE_NODE_CONFIG_CHECK_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "tearline/base/status.h"

namespace tearline::node {

struct NodeConfigSummary {
  std::string id;
  std::string nation;
  std::string broker_id;
};

Result<NodeConfigSummary> CheckNodeConfig(const std::filesystem::path& path, std::int64_t now_unix);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_CONFIG_CHECK_H_
