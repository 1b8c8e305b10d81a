#include "tearline/cli/daemon_exit.h"

#include <string_view>

namespace tearline::cli {

bool IsConfigFileError(const Status& status) {
  const std::string_view reason = status.reason();
  return reason == "CONFIG_NOT_FOUND" || reason == "CONFIG_TOO_LARGE" || reason == "CONFIG_INVALID";
}

int StartupExitCode(const Status& status) {
  if (status.ok()) return kExitOk;
  return IsConfigFileError(status) ? kExitConfig : kExitInvalid;
}

int RunExitCode(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kIoError:
    case Code::kResourceExhausted:
      return kExitIoError;
    default:
      return kExitSoftware;
  }
}

}  // namespace tearline::cli
