#include "tearline/broker/unit_options.h"

#include <algorithm>
#include <chrono>

#include "tearline/wire/wire.h"

namespace tearline::broker {

ReportStoreOptions ReportStoreOptionsFor(const BrokerConfig& config) {
  ReportStoreOptions o;
  o.max_bytes = config.max_store_bytes;
  return o;
}

LogServiceOptions LogServiceOptionsFor(const BrokerConfig& config) {
  return LogServiceOptions{config.checkpoint_every,
                           std::chrono::milliseconds(config.checkpoint_interval_ms)};
}

RouterOptions RouterOptionsFor(const BrokerConfig& config) {
  RouterOptions o;
  o.endpoint = config.endpoint;
  o.heartbeat_ms = config.heartbeat_ms;
  o.max_message_bytes = static_cast<std::int64_t>(kMaxFrameBytes + (1 << 20));
  o.send_hwm = static_cast<int>(config.delivery_window) + 64;
  return o;
}

SubmitOptions SubmitOptionsFor(const BrokerConfig& config) {
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

std::chrono::milliseconds ClaimWindowFor(const BrokerConfig& config) {
  return std::chrono::milliseconds(std::max<std::uint32_t>(1000, 3 * config.heartbeat_ms));
}

DeliveryOptions DeliveryOptionsFor(const BrokerConfig& config) {
  return DeliveryOptions{config.delivery_window, config.delivery_window_bytes,
                         config.max_delivery_refusals,
                         std::chrono::milliseconds(config.redeliver_after_ms)};
}

SubmitBacklogOptions SubmitBacklogOptionsFor(const BrokerConfig& config) {
  return SubmitBacklogOptions{
      config.submit_backlog_per_node, 16384, config.submit_backlog_bytes, 64,
      std::chrono::milliseconds(std::clamp<std::uint32_t>(config.heartbeat_ms / 10, 5, 50))};
}

ReleaseDeskOptions ReleaseDeskOptionsFor(const BrokerConfig& config) {
  return ReleaseDeskOptions{config.max_release_requests_per_node, 4096};
}

}  // namespace tearline::broker
