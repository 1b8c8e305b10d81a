#include "tearline/node/node_config.h"

#include "tearline/base/config_reader.h"

namespace tearline::node {

Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(const ConfigReader r, ConfigReader::Open(path, "node"));
  NodeConfig c;
  for (const std::string& k : r.keys()) {
    if (k == "heartbeat_ms") {
      TEARLINE_ASSIGN_OR_RETURN(const std::int64_t ms, r.Integer(k, 100, 60000));
      c.heartbeat_ms = static_cast<std::uint32_t>(ms);
    } else if (k == "id") {
      TEARLINE_ASSIGN_OR_RETURN(c.id, r.String(k));
    } else if (k == "broker_endpoint") {
      TEARLINE_ASSIGN_OR_RETURN(c.broker_endpoint, r.String(k));
    } else if (k == "broker_certificate") {
      TEARLINE_ASSIGN_OR_RETURN(c.broker_certificate, r.Path(k));
    } else if (k == "certificate") {
      TEARLINE_ASSIGN_OR_RETURN(c.certificate, r.Path(k));
    } else if (k == "secret") {
      TEARLINE_ASSIGN_OR_RETURN(c.secret, r.Path(k));
    } else if (k == "ca_dir") {
      TEARLINE_ASSIGN_OR_RETURN(c.ca_dir, r.Path(k));
    } else if (k == "data_dir") {
      TEARLINE_ASSIGN_OR_RETURN(c.data_dir, r.Path(k));
    } else if (k == "policy") {
      TEARLINE_ASSIGN_OR_RETURN(c.policy, r.Path(k));
    } else {
      return r.UnknownKey(k);
    }
  }
  TEARLINE_RETURN_IF_ERROR(r.Require({"id", "broker_endpoint", "broker_certificate", "certificate",
                                      "secret", "ca_dir", "data_dir"}));
  return c;
}

}  // namespace tearline::node
