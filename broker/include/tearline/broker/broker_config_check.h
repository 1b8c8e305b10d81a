// `tearline-broker --check-config FILE`: validates a broker configuration and the files it names
// without starting the broker (no socket, no audit record, nothing written):
//   the file itself (keys, types, ranges: LoadBrokerConfig), then the identity exactly as the
//   broker loads it at start (policy, ca_dir, secret, certificate: role broker, keys match),
//   the node directory (every *.cert verifies; one that does not is a warning, as at start),
//   and the state directories (data_dir, the directory of head_file) exist or can be made.
// Errors are one Status, CONFIG_NOT_FOUND / CONFIG_TOO_LARGE / CONFIG_INVALID, whose message
// begins "FILE:LINE:" at the key naming what is wrong.
// Thread-safety: reentrant; reads files only.
#ifndef TEARLINE_BROKER_BROKER_CONFIG_CHECK_H_
#define TEARLINE_BROKER_BROKER_CONFIG_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::broker {

struct BrokerConfigSummary {
  std::string id;
  std::size_t directory_nodes = 0;
  // Certificates in `directory` the broker would skip at start (each with its reason).
  std::vector<Status> skipped_certificates;
};

Result<BrokerConfigSummary> CheckBrokerConfig(const std::filesystem::path& path,
                                              std::int64_t now_unix);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_CONFIG_CHECK_H_
