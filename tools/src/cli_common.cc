#include "tearline/tools/cli_common.h"

namespace tearline::tools {
namespace {
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}
}  // namespace

void PrintError(std::ostream& err, std::string_view program, const Status& status) {
  err << program << ": error: " << OneLine(status.ToString()) << "\n";
}

void PrintError(std::ostream& err, std::string_view program, std::string_view message) {
  err << program << ": error: " << OneLine(message) << "\n";
}

Result<Policy> LoadPolicy(const std::string& path) {
  return Policy::LoadFile(path.empty() ? DefaultPolicyPath() : path);
}

}  // namespace tearline::tools
