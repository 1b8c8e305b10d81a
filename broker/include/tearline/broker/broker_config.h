// Broker configuration, read from a small TOML file:
//
//   [broker]
//   id = "broker"                       # broker certificate's node id
//   endpoint = "tcp://127.0.0.1:0"      # port 0: pick an ephemeral port (see endpoint_file)
//   certificate = "certs/broker.cert"   # relative paths are relative to the config file
//   secret = "certs/broker.secret"      # mode 0600
//   ca_dir = "certs/ca"                 # root.cert (+ revoked.list)
//   directory = "certs/nodes"           # *.cert of every coalition node
//   data_dir = "data/broker"            # audit log, queues, endpoint file
//   policy = "coalition.toml"           # optional; default: the shipped policy
//   heartbeat_ms = 1000                 # optional
//   max_frame_bytes = 16842752          # optional, capped at the protocol maximum
//   checkpoint_every = 64               # optional: sign an audit checkpoint every N records
//   checkpoint_interval_ms = 2000       # optional: ...or after this long when records were added
//
// Thread-safety: plain value.
#ifndef TEARLINE_BROKER_BROKER_CONFIG_H_
#define TEARLINE_BROKER_BROKER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tearline/status.h"

namespace tearline::broker {

struct BrokerConfig {
  std::string id = "broker";
  std::string endpoint = "tcp://127.0.0.1:0";
  std::filesystem::path certificate;
  std::filesystem::path secret;
  std::filesystem::path ca_dir;
  std::filesystem::path directory;
  std::filesystem::path data_dir;
  std::filesystem::path policy;  // Empty: DefaultPolicyPath().
  std::uint32_t heartbeat_ms = 1000;
  std::size_t max_frame_bytes = 0;  // 0: the protocol maximum.
  std::size_t max_queue_per_node = 10000;
  // A signed audit checkpoint is written after this many new records, or after this interval
  // when anything was appended, and at shutdown.
  std::uint64_t checkpoint_every = 64;
  std::uint32_t checkpoint_interval_ms = 2000;

  // The file where the broker writes the endpoint it actually bound (for port 0).
  std::filesystem::path EndpointFile() const { return data_dir / "endpoint"; }
};

// Errors: CONFIG_NOT_FOUND, CONFIG_INVALID (with file:line and cause).
Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& path);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_CONFIG_H_
