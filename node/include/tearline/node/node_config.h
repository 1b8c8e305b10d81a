// Node configuration, read from a small TOML file (one per national node):
//
//   [node]
//   id = "usa-1"                              # this node's certificate id
//   broker_endpoint = "tcp://127.0.0.1:5555"
//   broker_certificate = "certs/broker.cert"  # pins the broker's CURVE key
//   certificate = "certs/usa-1.cert"          # relative paths: relative to this file
//   secret = "certs/usa-1.secret"             # mode 0600
//   previous_secret = "certs/usa-1-old.secret"  # optional, mode 0600: the key file of before a
//                                             # key rotation, to open copies sealed to the old
//                                             # encryption key (and inbox copies received
//                                             # under it); keep it while they matter
//   ca_dir = "certs/ca"                       # root.cert (+ revoked.list)
//   data_dir = "data/usa-1"                   # inbox, outbox, control socket, revocation floor
//   policy = "coalition.toml"                 # optional; default: the shipped policy
//   heartbeat_ms = 1000                       # optional
//   max_inbox_reports = 100000                # optional: reports the inbox may hold
//   max_inbox_bytes = 8589934592              # optional: bytes of the inbox's files
//
// Thread-safety: plain value.
#ifndef TEARLINE_NODE_NODE_CONFIG_H_
#define TEARLINE_NODE_NODE_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "tearline/base/status.h"

namespace tearline::node {

struct NodeConfig {
  std::string id;
  std::string broker_endpoint;
  std::filesystem::path broker_certificate;
  std::filesystem::path certificate;
  std::filesystem::path secret;
  std::filesystem::path previous_secret;  // Empty: none (no rotation in progress).
  std::filesystem::path ca_dir;
  std::filesystem::path data_dir;
  std::filesystem::path policy;  // Empty: DefaultPolicyPath().
  std::uint32_t heartbeat_ms = 1000;
  // Beyond either limit a delivered report is refused with INBOX_FULL (not stored, not
  // acknowledged): no originator can fill this node's disk.
  std::uint64_t max_inbox_reports = 100000;
  std::uint64_t max_inbox_bytes = std::uint64_t{8} << 30;

  // ipc endpoint of the local control socket (file mode 0600, inside data_dir).
  std::string ControlEndpoint() const { return "ipc://" + (data_dir / "control.sock").string(); }
};

// Errors: CONFIG_NOT_FOUND, CONFIG_INVALID (with file:line and cause).
Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_CONFIG_H_
