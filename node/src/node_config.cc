#include "tearline/node/node_config.h"

#include "tearline/base/config_reader.h"

namespace tearline::node {

Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path, "node"));
  NodeConfig c;
  r.BindString("id", c.id);
  r.BindString("broker_endpoint", c.broker_endpoint);
  r.BindPath("broker_certificate", c.broker_certificate);
  r.BindPath("certificate", c.certificate);
  r.BindPath("secret", c.secret);
  r.BindPath("previous_secret", c.previous_secret);
  r.BindPath("ca_dir", c.ca_dir);
  r.BindPath("data_dir", c.data_dir);
  r.BindPath("policy", c.policy);
  r.BindInteger("heartbeat_ms", c.heartbeat_ms, 100, 60000);
  r.BindInteger("max_inbox_reports", c.max_inbox_reports, 1);
  r.BindInteger("max_inbox_bytes", c.max_inbox_bytes, 65536);
  TEARLINE_RETURN_IF_ERROR(r.ReadBound());
  TEARLINE_RETURN_IF_ERROR(r.Require({"id", "broker_endpoint", "broker_certificate", "certificate",
                                      "secret", "ca_dir", "data_dir"}));
  return c;
}

}  // namespace tearline::node
