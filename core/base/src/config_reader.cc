#include "tearline/base/config_reader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <system_error>
#include <utility>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace tearline {

struct ConfigReader::Impl {
  std::filesystem::path path;
  std::string section;
  toml::table root;
  const toml::table* table = nullptr;  // [section] inside root.
  std::vector<std::string> keys;
  std::map<std::string, std::function<Status(const ConfigReader&)>, std::less<>> bindings;

  const toml::node* Find(std::string_view key) const {
    return key.empty() ? nullptr : table->get(key);
  }

  Status At(const toml::node* node, std::string_view cause) const {
    std::string where = path.string();
    if (node != nullptr && node->source().begin.line > 0) {
      where += ":" + std::to_string(node->source().begin.line);
    }
    return InvalidArgument("CONFIG_INVALID", where + ": " + std::string(cause));
  }
};

namespace {

Result<std::string> ReadCapped(const std::filesystem::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("CONFIG_NOT_FOUND", path.string() + ": cannot open configuration file");
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument("CONFIG_INVALID", path.string() + ": not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("CONFIG_INVALID", path.string() + ": cannot open configuration file");
  }
  // One byte more than allowed tells "at the cap" from "above it", also for a growing file.
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return InvalidArgument("CONFIG_INVALID", path.string() + ": cannot read configuration file");
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    return Status(Code::kResourceExhausted, "CONFIG_TOO_LARGE",
                  path.string() + ": configuration file is larger than " +
                      std::to_string(max_bytes) + " bytes");
  }
  return text;
}

}  // namespace

ConfigReader::ConfigReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigReader::ConfigReader(ConfigReader&&) noexcept = default;
ConfigReader& ConfigReader::operator=(ConfigReader&&) noexcept = default;
ConfigReader::~ConfigReader() = default;

Result<ConfigReader> ConfigReader::Open(const std::filesystem::path& path, std::string_view section,
                                        std::size_t max_bytes) {
  TEARLINE_ASSIGN_OR_RETURN(const std::string text, ReadCapped(path, max_bytes));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->section = std::string(section);
  try {
    impl->root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return InvalidArgument("CONFIG_INVALID", path.string() + ":" +
                                                 std::to_string(e.source().begin.line) + ": " +
                                                 std::string(e.description()));
  }
  impl->table = impl->root[section].as_table();
  if (impl->table == nullptr) {
    return impl->At(nullptr, "missing [" + impl->section + "] table");
  }
  // toml::table iterates in key order; the file's order makes "first problem" mean the first
  // one a person reading the file meets.
  std::vector<std::pair<std::uint32_t, std::string>> ordered;
  for (const auto& [key, node] : *impl->table) {
    ordered.emplace_back(node.source().begin.line, std::string(key.str()));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, key] : ordered) impl->keys.push_back(std::move(key));
  return ConfigReader(std::move(impl));
}

const std::vector<std::string>& ConfigReader::keys() const { return impl_->keys; }

bool ConfigReader::Has(std::string_view key) const { return impl_->Find(key) != nullptr; }

Result<std::string> ConfigReader::String(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  const auto value = node != nullptr ? node->value<std::string>() : std::nullopt;
  if (!value || value->empty()) {
    return impl_->At(node != nullptr ? node : impl_->table,
                     std::string(key) + " must be a non-empty string");
  }
  return *value;
}

Result<std::filesystem::path> ConfigReader::Path(std::string_view key) const {
  TEARLINE_ASSIGN_OR_RETURN(const std::filesystem::path value, String(key));
  return value.is_absolute() ? value : impl_->path.parent_path() / value;
}

Result<std::int64_t> ConfigReader::Integer(std::string_view key, std::int64_t min,
                                           std::int64_t max) const {
  const toml::node* node = impl_->Find(key);
  const auto value = node != nullptr ? node->value<std::int64_t>() : std::nullopt;
  if (value && *value >= min && *value <= max) return *value;
  std::string rule;
  if (max != std::numeric_limits<std::int64_t>::max()) {
    rule = "an integer between " + std::to_string(min) + " and " + std::to_string(max);
  } else if (min == 0) {
    rule = "a non-negative integer";
  } else if (min == 1) {
    rule = "a positive integer";
  } else {
    rule = "an integer of at least " + std::to_string(min);
  }
  return impl_->At(node != nullptr ? node : impl_->table, std::string(key) + " must be " + rule);
}

Status ConfigReader::Error(std::string_view key, std::string_view cause) const {
  const toml::node* node = impl_->Find(key);
  return impl_->At(node != nullptr ? node : impl_->table, cause);
}

Status ConfigReader::UnknownKey(std::string_view key) const {
  return Error(key, "unknown key '" + std::string(key) + "' in [" + impl_->section + "]");
}

Status ConfigReader::Require(std::initializer_list<std::string_view> required) const {
  std::vector<std::string_view> missing;
  for (std::string_view key : required) {
    if (!Has(key)) missing.push_back(key);
  }
  if (missing.empty()) return Status::Ok();
  std::string names;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) names += i + 1 == missing.size() ? " and " : ", ";
    names += "'" + std::string(missing[i]) + "'";
  }
  return impl_->At(impl_->table, "[" + impl_->section + "] needs " + names);
}

void ConfigReader::Bind(std::string_view key, std::function<Status(const ConfigReader&)> read) {
  impl_->bindings.insert_or_assign(std::string(key), std::move(read));
}

void ConfigReader::BindString(std::string_view key, std::string& out) {
  Bind(key, [key = std::string(key), &out](const ConfigReader& r) -> Status {
    TEARLINE_ASSIGN_OR_RETURN(out, r.String(key));
    return Status::Ok();
  });
}

void ConfigReader::BindPath(std::string_view key, std::filesystem::path& out) {
  Bind(key, [key = std::string(key), &out](const ConfigReader& r) -> Status {
    TEARLINE_ASSIGN_OR_RETURN(out, r.Path(key));
    return Status::Ok();
  });
}

Status ConfigReader::ReadBound() const {
  for (const std::string& key : impl_->keys) {
    const auto binding = impl_->bindings.find(key);
    if (binding == impl_->bindings.end()) return UnknownKey(key);
    TEARLINE_RETURN_IF_ERROR(binding->second(*this));
  }
  return Status::Ok();
}

}  // namespace tearline
