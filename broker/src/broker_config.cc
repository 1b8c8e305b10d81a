#include "tearline/broker/broker_config.h"

#include <cstdint>

#include "tearline/base/config_reader.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path, "broker"));
  BrokerConfig c;
  r.BindString("id", c.id);
  r.BindString("endpoint", c.endpoint);
  r.BindPath("certificate", c.certificate);
  r.BindPath("secret", c.secret);
  r.BindPath("ca_dir", c.ca_dir);
  r.BindPath("directory", c.directory);
  r.BindPath("data_dir", c.data_dir);
  r.BindPath("policy", c.policy);
  r.BindPath("head_file", c.head_file);
  r.BindInteger("heartbeat_ms", c.heartbeat_ms, 100, 60000);
  r.BindInteger("max_frame_bytes", c.max_frame_bytes, 1024,
                static_cast<std::int64_t>(kMaxFrameBytes));
  r.BindInteger("checkpoint_every", c.checkpoint_every, 1);
  r.BindInteger("checkpoint_interval_ms", c.checkpoint_interval_ms, 100, 3600000);
  r.BindInteger("max_queue_per_node", c.max_queue_per_node, 1);
  r.BindInteger("max_store_bytes", c.max_store_bytes, 65536);
  r.BindInteger("max_queue_per_sender_per_recipient", c.max_queue_per_sender_per_recipient, 1);
  r.BindInteger("max_store_bytes_per_node", c.max_store_bytes_per_node, 1024);
  r.BindInteger("min_free_bytes", c.min_free_bytes, 0);
  r.BindInteger("rate_per_node", c.rate_per_node, 1, 100000);
  r.BindInteger("max_connections", c.max_connections, 1, 65536);
  r.BindInteger("frame_rate_per_node", c.frame_rate_per_node, 1, 1000000);
  r.BindInteger("delivery_window", c.delivery_window, 1, 4096);
  r.BindInteger("delivery_window_bytes", c.delivery_window_bytes, 1);
  r.BindInteger("max_delivery_refusals", c.max_delivery_refusals, 1, 1000);
  r.BindInteger("redeliver_after_ms", c.redeliver_after_ms, 10, 3600000);
  r.BindInteger("submit_backlog_per_node", c.submit_backlog_per_node, 1, 65536);
  r.BindInteger("submit_backlog_bytes", c.submit_backlog_bytes, 65536);
  r.BindInteger("max_release_requests_per_node", c.max_release_requests_per_node, 1, 4096);
  r.BindPath("metrics_file", c.metrics_file);
  r.BindInteger("metrics_interval", c.metrics_interval, 1, 3600);
  r.BindInteger("rotation_overlap", c.rotation_overlap, 0, 366 * 24 * 3600);
  TEARLINE_RETURN_IF_ERROR(r.ReadBound());
  TEARLINE_RETURN_IF_ERROR(r.Require({"certificate", "secret", "ca_dir", "directory", "data_dir"}));
  if (c.max_frame_bytes == 0) c.max_frame_bytes = kMaxFrameBytes;
  return c;
}

}  // namespace tearline::broker
