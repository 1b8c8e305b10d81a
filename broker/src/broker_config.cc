#include "tearline/broker/broker_config.h"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "tearline/base/config_reader.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(const ConfigReader r, ConfigReader::Open(path, "broker"));
  BrokerConfig c;
  // An integer key with its range, and where it goes.
  const auto integer = [&r](const std::string& k, std::int64_t min, std::int64_t max,
                            auto& field) -> Status {
    TEARLINE_ASSIGN_OR_RETURN(const std::int64_t value, r.Integer(k, min, max));
    field = static_cast<std::remove_reference_t<decltype(field)>>(value);
    return Status::Ok();
  };
  constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();
  for (const std::string& k : r.keys()) {
    if (k == "id") {
      TEARLINE_ASSIGN_OR_RETURN(c.id, r.String(k));
    } else if (k == "endpoint") {
      TEARLINE_ASSIGN_OR_RETURN(c.endpoint, r.String(k));
    } else if (k == "certificate") {
      TEARLINE_ASSIGN_OR_RETURN(c.certificate, r.Path(k));
    } else if (k == "secret") {
      TEARLINE_ASSIGN_OR_RETURN(c.secret, r.Path(k));
    } else if (k == "ca_dir") {
      TEARLINE_ASSIGN_OR_RETURN(c.ca_dir, r.Path(k));
    } else if (k == "directory") {
      TEARLINE_ASSIGN_OR_RETURN(c.directory, r.Path(k));
    } else if (k == "data_dir") {
      TEARLINE_ASSIGN_OR_RETURN(c.data_dir, r.Path(k));
    } else if (k == "policy") {
      TEARLINE_ASSIGN_OR_RETURN(c.policy, r.Path(k));
    } else if (k == "heartbeat_ms") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 100, 60000, c.heartbeat_ms));
    } else if (k == "max_frame_bytes") {
      TEARLINE_RETURN_IF_ERROR(
          integer(k, 1024, static_cast<std::int64_t>(kMaxFrameBytes), c.max_frame_bytes));
    } else if (k == "checkpoint_every") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 1, kNoMax, c.checkpoint_every));
    } else if (k == "checkpoint_interval_ms") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 100, 3600000, c.checkpoint_interval_ms));
    } else if (k == "max_queue_per_node") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 1, kNoMax, c.max_queue_per_node));
    } else if (k == "max_store_bytes") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 65536, kNoMax, c.max_store_bytes));
    } else if (k == "min_free_bytes") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 0, kNoMax, c.min_free_bytes));
    } else if (k == "rate_per_node") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 1, 100000, c.rate_per_node));
    } else if (k == "max_connections") {
      TEARLINE_RETURN_IF_ERROR(integer(k, 1, 65536, c.max_connections));
    } else {
      return r.UnknownKey(k);
    }
  }
  TEARLINE_RETURN_IF_ERROR(r.Require({"certificate", "secret", "ca_dir", "directory", "data_dir"}));
  if (c.max_frame_bytes == 0) c.max_frame_bytes = kMaxFrameBytes;
  return c;
}

}  // namespace tearline::broker
