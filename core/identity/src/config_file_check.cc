#include "tearline/identity/config_file_check.h"

#include <unistd.h>

#include <string>
#include <system_error>

namespace tearline {

Status ErrorAtKey(const ConfigReader& reader, std::string_view key, const Status& problem) {
  if (problem.ok()) return problem;
  return reader.Error(key, std::string(key) + ": " + problem.reason() + ": " + problem.message());
}

std::string_view IdentityErrorKey(const Status& problem) {
  const std::string_view message = problem.message();
  const std::string_view reason = problem.reason();
  // LoadLocalIdentity prefixes each loader's error with what it was loading.
  if (message.starts_with("policy")) return "policy";
  if (message.starts_with("ca_dir ")) return "ca_dir";
  if (message.starts_with("secret") || reason.ends_with("_KEY_MISMATCH")) return "secret";
  return "certificate";
}

Result<LocalIdentity> CheckLocalIdentity(const ConfigReader& reader,
                                         const LocalIdentityFiles& files, CertRole role,
                                         const std::optional<std::string>& expected_id,
                                         std::int64_t now_unix) {
  auto identity = LoadLocalIdentity(files, role, expected_id, now_unix);
  if (!identity.ok()) {
    return ErrorAtKey(reader, IdentityErrorKey(identity.status()), identity.status());
  }
  return identity;
}

Status CheckStateDir(const ConfigReader& reader, std::string_view key,
                     const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path existing = dir;
  while (!existing.empty() && !std::filesystem::exists(existing, ec)) {
    if (existing == existing.parent_path()) break;
    existing = existing.parent_path();
  }
  if (existing.empty() || !std::filesystem::is_directory(existing, ec)) {
    return ErrorAtKey(
        reader, key,
        InvalidArgument("CONFIG_STATE_DIR", existing.string() + " is not a directory (needed for " +
                                                dir.string() + ")"));
  }
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    return ErrorAtKey(
        reader, key,
        InvalidArgument(
            "CONFIG_STATE_DIR",
            existing.string() + " is not writable by this user" +
                (existing == dir ? std::string() : " (needed to create " + dir.string() + ")")));
  }
  return Status::Ok();
}

}  // namespace tearline
