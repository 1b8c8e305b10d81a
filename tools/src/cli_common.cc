#include "tearline/tools/cli_common.h"

namespace tearline::tools {

Result<Policy> LoadPolicy(const std::string& path) {
  return Policy::LoadFile(path.empty() ? DefaultPolicyPath() : path);
}

}  // namespace tearline::tools
