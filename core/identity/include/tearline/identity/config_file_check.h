// The checks `tearline-broker --check-config` and `tearline-node check-config` make of the files
// a daemon's configuration names, without starting anything and without writing anything.
// Every failure is CONFIG_INVALID "CONFIG:LINE: KEY: REASON: message" at the line of the key
// that names the file at fault, so the operator edits the right line (the original reason, e.g.
// KEY_FILE_PERMISSIONS, stays in the text).
//
// Thread-safety: pure functions of the files; reentrant.
#ifndef TEARLINE_IDENTITY_CONFIG_FILE_CHECK_H_
#define TEARLINE_IDENTITY_CONFIG_FILE_CHECK_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tearline/base/config_reader.h"
#include "tearline/base/status.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/local_identity.h"

namespace tearline {

// `problem` (not OK) reported at the line of `key` in `reader`'s file.
Status ErrorAtKey(const ConfigReader& reader, std::string_view key, const Status& problem);

// Loads the identity exactly as the daemon does at start (LoadLocalIdentity) and reports a
// failure at the key naming the file at fault: `policy`, `ca_dir`, `secret` or `certificate`.
Result<LocalIdentity> CheckLocalIdentity(const ConfigReader& reader,
                                         const LocalIdentityFiles& files, CertRole role,
                                         const std::optional<std::string>& expected_id,
                                         std::int64_t now_unix);

// A directory the daemon will own: either it exists as a directory this process can write, or
// it can be made (its nearest existing ancestor is a directory it can write). Creates nothing.
Status CheckStateDir(const ConfigReader& reader, std::string_view key,
                     const std::filesystem::path& dir);

// Which configuration key names the file a LoadLocalIdentity failure is about.
std::string_view IdentityErrorKey(const Status& problem);

}  // namespace tearline

#endif  // TEARLINE_IDENTITY_CONFIG_FILE_CHECK_H_
