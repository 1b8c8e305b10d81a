#include "tearline/broker/broker_config.h"

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

Status ConfigError(const std::filesystem::path& file, const toml::node* node,
                   const std::string& cause) {
  std::string where = file.string();
  if (node != nullptr && node->source().begin.line > 0) {
    where += ":" + std::to_string(node->source().begin.line);
  }
  return InvalidArgument("CONFIG_INVALID", where + ": " + cause);
}

}  // namespace

Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0 && !std::filesystem::exists(path)) {
      return NotFound("CONFIG_NOT_FOUND", path.string() + ": cannot open configuration file");
    }
    return InvalidArgument("CONFIG_INVALID", path.string() + ":" +
                                                 std::to_string(e.source().begin.line) + ": " +
                                                 std::string(e.description()));
  }
  const toml::table* t = root["broker"].as_table();
  if (t == nullptr) return ConfigError(path, nullptr, "missing [broker] table");
  const std::filesystem::path base = path.parent_path();
  auto resolve = [&](const std::string& p) {
    std::filesystem::path fp(p);
    return fp.is_absolute() ? fp : base / fp;
  };

  BrokerConfig c;
  for (const auto& [key, node] : *t) {
    const std::string_view k = key.str();
    auto str = node.value<std::string>();
    auto num = node.value<std::int64_t>();
    if (k == "id" || k == "endpoint" || k == "certificate" || k == "secret" || k == "ca_dir" ||
        k == "directory" || k == "data_dir" || k == "policy") {
      if (!str || str->empty())
        return ConfigError(path, &node, std::string(k) + " must be a non-empty string");
      if (k == "id") c.id = *str;
      if (k == "endpoint") c.endpoint = *str;
      if (k == "certificate") c.certificate = resolve(*str);
      if (k == "secret") c.secret = resolve(*str);
      if (k == "ca_dir") c.ca_dir = resolve(*str);
      if (k == "directory") c.directory = resolve(*str);
      if (k == "data_dir") c.data_dir = resolve(*str);
      if (k == "policy") c.policy = resolve(*str);
    } else if (k == "heartbeat_ms") {
      if (!num || *num < 100 || *num > 60000) {
        return ConfigError(path, &node, "heartbeat_ms must be an integer between 100 and 60000");
      }
      c.heartbeat_ms = static_cast<std::uint32_t>(*num);
    } else if (k == "max_frame_bytes") {
      if (!num || *num < 1024 || static_cast<std::uint64_t>(*num) > kMaxFrameBytes) {
        return ConfigError(
            path, &node,
            "max_frame_bytes must be between 1024 and " + std::to_string(kMaxFrameBytes));
      }
      c.max_frame_bytes = static_cast<std::size_t>(*num);
    } else if (k == "checkpoint_every") {
      if (!num || *num < 1) return ConfigError(path, &node, "checkpoint_every must be positive");
      c.checkpoint_every = static_cast<std::uint64_t>(*num);
    } else if (k == "checkpoint_interval_ms") {
      if (!num || *num < 100 || *num > 3600000) {
        return ConfigError(path, &node, "checkpoint_interval_ms must be between 100 and 3600000");
      }
      c.checkpoint_interval_ms = static_cast<std::uint32_t>(*num);
    } else if (k == "max_queue_per_node") {
      if (!num || *num < 1) return ConfigError(path, &node, "max_queue_per_node must be positive");
      c.max_queue_per_node = static_cast<std::size_t>(*num);
    } else if (k == "max_store_bytes") {
      if (!num || *num < 65536) {
        return ConfigError(path, &node, "max_store_bytes must be an integer of at least 65536");
      }
      c.max_store_bytes = static_cast<std::uint64_t>(*num);
    } else if (k == "min_free_bytes") {
      if (!num || *num < 0) {
        return ConfigError(path, &node, "min_free_bytes must be a non-negative integer");
      }
      c.min_free_bytes = static_cast<std::uint64_t>(*num);
    } else if (k == "rate_per_node") {
      if (!num || *num < 1 || *num > 100000) {
        return ConfigError(path, &node, "rate_per_node must be an integer between 1 and 100000");
      }
      c.rate_per_node = static_cast<std::uint32_t>(*num);
    } else if (k == "max_connections") {
      if (!num || *num < 1 || *num > 65536) {
        return ConfigError(path, &node, "max_connections must be an integer between 1 and 65536");
      }
      c.max_connections = static_cast<std::uint32_t>(*num);
    } else {
      return ConfigError(path, &node, "unknown key '" + std::string(k) + "' in [broker]");
    }
  }
  for (const auto& [name, value] :
       {std::pair<const char*, const std::filesystem::path*>{"certificate", &c.certificate},
        {"secret", &c.secret},
        {"ca_dir", &c.ca_dir},
        {"directory", &c.directory},
        {"data_dir", &c.data_dir}}) {
    if (value->empty()) return ConfigError(path, t, std::string("[broker] needs '") + name + "'");
  }
  if (c.max_frame_bytes == 0) c.max_frame_bytes = kMaxFrameBytes;
  return c;
}

}  // namespace tearline::broker
