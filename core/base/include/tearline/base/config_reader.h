// ConfigReader: one [section] of a daemon's TOML configuration file, with the checks every
// Tearline configuration shares, so each daemon's loader only says which keys it has:
//   - the file is read with a size cap (a configuration is a small hand-edited file);
//   - every error names the file and, where there is one, the line: "FILE:LINE: cause";
//   - typed getters refuse a wrong type, an empty string or an integer out of range;
//   - relative paths are resolved against the configuration file's directory, so a daemon
//     finds its files whatever its working directory is;
//   - unknown and missing keys are reported by name.
// A loader binds each key it knows to the field it fills, then reads them all:
//   TEARLINE_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path, "node"));
//   r.BindString("id", c.id);
//   r.BindPath("data_dir", c.data_dir);
//   r.BindInteger("heartbeat_ms", c.heartbeat_ms, 100, 60000);
//   TEARLINE_RETURN_IF_ERROR(r.ReadBound());  // Any other key is an error.
//   TEARLINE_RETURN_IF_ERROR(r.Require({"id", "data_dir"}));
// Errors: CONFIG_NOT_FOUND (Code::kNotFound) when the file does not exist, CONFIG_TOO_LARGE
// (Code::kResourceExhausted) above the cap, CONFIG_INVALID (Code::kInvalidArgument) for
// everything else.
//
// The TOML parser stays behind this header (pimpl): includers do not compile it.
// Ownership: owns the parsed document; move-only. Thread-safety: const methods may be called
// concurrently; the reader is meant to live only while a loader fills its configuration struct.
#ifndef TEARLINE_BASE_CONFIG_READER_H_
#define TEARLINE_BASE_CONFIG_READER_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tearline/base/status.h"

namespace tearline {

inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

class ConfigReader {
 public:
  // Reads and parses `path` and selects its table [`section`] (an error when it is absent).
  static Result<ConfigReader> Open(const std::filesystem::path& path, std::string_view section,
                                   std::size_t max_bytes = kMaxConfigBytes);

  ConfigReader(ConfigReader&&) noexcept;
  ConfigReader& operator=(ConfigReader&&) noexcept;
  ~ConfigReader();

  // The section's keys, in the order of the file.
  const std::vector<std::string>& keys() const;
  bool Has(std::string_view key) const;

  // The value of `key` as a non-empty string ("KEY must be a non-empty string" otherwise).
  Result<std::string> String(std::string_view key) const;
  // String(key) as a path; a relative one is taken relative to the configuration file.
  Result<std::filesystem::path> Path(std::string_view key) const;
  // The value of `key` as an integer in [min, max]; the error states the range.
  Result<std::int64_t> Integer(std::string_view key, std::int64_t min,
                               std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;

  // CONFIG_INVALID "FILE:LINE: cause", at the line of `key` (of the section header when `key`
  // is empty or not in the section).
  Status Error(std::string_view key, std::string_view cause) const;
  // "unknown key 'KEY' in [SECTION]", at the key's line.
  Status UnknownKey(std::string_view key) const;
  // OK when every key of `required` is present; otherwise one error naming all missing ones.
  Status Require(std::initializer_list<std::string_view> required) const;

  // Bindings: where ReadBound() puts the value of `key` when the section has it (String, Path
  // and Integer rules apply). The destinations must outlive ReadBound(); a key bound twice
  // keeps its last binding.
  void BindString(std::string_view key, std::string& out);
  void BindPath(std::string_view key, std::filesystem::path& out);
  template <typename Int>
  void BindInteger(std::string_view key, Int& out, std::int64_t min,
                   std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
    static_assert(std::is_integral_v<Int>, "BindInteger fills an integer field");
    Bind(key, [key = std::string(key), &out, min, max](const ConfigReader& r) -> Status {
      TEARLINE_ASSIGN_OR_RETURN(const std::int64_t value, r.Integer(key, min, max));
      out = static_cast<Int>(value);
      return Status::Ok();
    });
  }
  // Reads every key of the section, in the order of the file, into its binding; stops at the
  // first problem. A key without a binding is an UnknownKey error.
  Status ReadBound() const;

 private:
  struct Impl;
  explicit ConfigReader(std::unique_ptr<Impl> impl);
  void Bind(std::string_view key, std::function<Status(const ConfigReader&)> read);

  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline

#endif  // TEARLINE_BASE_CONFIG_READER_H_
