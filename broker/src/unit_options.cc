#include "tearline/broker/unit_options.h"

#include <algorithm>
#include <chrono>

#include "tearline/wire/wire.h"

namespace tearline::broker {

SubmitOptions SubmitOptionsFrom(const BrokerConfig& config) {
  SubmitOptions o;
  o.rate_per_node = config.rate_per_node;
  o.max_queue_per_node = config.max_queue_per_node;
  o.max_queue_per_sender_per_recipient = config.max_queue_per_sender_per_recipient;
  o.max_store_bytes_per_node = config.max_store_bytes_per_node;
  o.max_store_bytes = config.max_store_bytes;
  o.min_free_bytes = config.min_free_bytes;
  o.data_dir = config.data_dir;
  return o;
}

DeliveryOptions DeliveryOptionsFrom(const BrokerConfig& config) {
  return DeliveryOptions{config.delivery_window, config.delivery_window_bytes,
                         config.max_delivery_refusals,
                         std::chrono::milliseconds(config.redeliver_after_ms)};
}

LogServiceOptions LogServiceOptionsFrom(const BrokerConfig& config) {
  return LogServiceOptions{config.checkpoint_every,
                           std::chrono::milliseconds(config.checkpoint_interval_ms)};
}

MetricsOptions MetricsOptionsFrom(const BrokerConfig& config) {
  return MetricsOptions{config.metrics_file, std::chrono::seconds(config.metrics_interval)};
}

SubmitBacklogOptions SubmitBacklogOptionsFrom(const BrokerConfig& config) {
  SubmitBacklogOptions o;
  o.max_per_node = config.submit_backlog_per_node;
  o.max_total = 16384;
  o.max_bytes = config.submit_backlog_bytes;
  o.max_per_turn = 64;
  o.turn_budget =
      std::chrono::milliseconds(std::clamp<std::uint32_t>(config.heartbeat_ms / 10, 5, 50));
  return o;
}

RouterOptions RouterOptionsFrom(const BrokerConfig& config, int read_batch) {
  RouterOptions o;
  o.endpoint = config.endpoint;
  o.heartbeat_ms = config.heartbeat_ms;
  o.max_message_bytes = static_cast<std::int64_t>(kMaxFrameBytes + (1 << 20));
  o.send_hwm = static_cast<int>(config.delivery_window) + read_batch + 64;
  return o;
}

CommitGroup::Limits CommitGroupLimitsFrom(const BrokerConfig& config) {
  CommitGroup::Limits l;
  // Answers wait for at most a quarter of a heartbeat interval (50 ms by default), well inside
  // the three intervals after which a node gives its session up.
  l.max_open = std::min(std::chrono::milliseconds(50),
                        std::chrono::milliseconds(config.heartbeat_ms / 4 + 1));
  l.max_held_bytes = static_cast<std::size_t>(
      std::max<std::uint64_t>(std::uint64_t{1} << 20, config.delivery_window_bytes));
  return l;
}

Clock::Duration ClaimWindowFrom(const BrokerConfig& config) {
  return std::chrono::milliseconds(std::max<std::uint32_t>(1000, 3 * config.heartbeat_ms));
}

ReportStoreOptions ReportStoreOptionsFrom(const BrokerConfig& config) {
  ReportStoreOptions o;
  o.max_bytes = config.max_store_bytes;
  return o;
}

ReleaseDeskOptions ReleaseDeskOptionsFrom(const BrokerConfig& config) {
  return ReleaseDeskOptions{config.max_release_requests_per_node, 4096};
}

}  // namespace tearline::broker
