#include "tearline/node/node_config.h"

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace tearline::node {
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

Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path) {
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
  const toml::table* t = root["node"].as_table();
  if (t == nullptr) return ConfigError(path, nullptr, "missing [node] table");
  const std::filesystem::path base = path.parent_path();
  auto resolve = [&](const std::string& p) {
    std::filesystem::path fp(p);
    return fp.is_absolute() ? fp : base / fp;
  };
  NodeConfig c;
  for (const auto& [key, node] : *t) {
    const std::string_view k = key.str();
    if (k == "heartbeat_ms") {
      auto num = node.value<std::int64_t>();
      if (!num || *num < 100 || *num > 60000) {
        return ConfigError(path, &node, "heartbeat_ms must be an integer between 100 and 60000");
      }
      c.heartbeat_ms = static_cast<std::uint32_t>(*num);
      continue;
    }
    auto str = node.value<std::string>();
    if (!str || str->empty()) {
      return ConfigError(path, &node, std::string(k) + " must be a non-empty string");
    }
    if (k == "id") {
      c.id = *str;
    } else if (k == "broker_endpoint") {
      c.broker_endpoint = *str;
    } else if (k == "broker_certificate") {
      c.broker_certificate = resolve(*str);
    } else if (k == "certificate") {
      c.certificate = resolve(*str);
    } else if (k == "secret") {
      c.secret = resolve(*str);
    } else if (k == "ca_dir") {
      c.ca_dir = resolve(*str);
    } else if (k == "data_dir") {
      c.data_dir = resolve(*str);
    } else if (k == "policy") {
      c.policy = resolve(*str);
    } else {
      return ConfigError(path, &node, "unknown key '" + std::string(k) + "' in [node]");
    }
  }
  if (c.id.empty() || c.broker_endpoint.empty() || c.broker_certificate.empty() ||
      c.certificate.empty() || c.secret.empty() || c.ca_dir.empty() || c.data_dir.empty()) {
    return ConfigError(path, t,
                       "[node] needs id, broker_endpoint, broker_certificate, certificate, secret, "
                       "ca_dir and data_dir");
  }
  return c;
}

}  // namespace tearline::node
