#include "tearline/cli/command_line.h"

#include <CLI/CLI.hpp>

namespace tearline::cli {

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

void PrintError(std::ostream& err, std::string_view program, const Status& status) {
  PrintError(err, program, status.ToString());
}

void PrintError(std::ostream& err, std::string_view program, std::string_view message) {
  err << program << ": error: " << OneLine(message) << "\n";
}

int Fail(std::ostream& err, std::string_view program, const Status& status, int exit_code) {
  PrintError(err, program, status);
  return exit_code;
}

std::optional<int> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                    std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // CallForHelp and the other "successes" CLI11 signals by exception exit 0 with help.
    if (e.get_exit_code() == 0) {
      out << app.help();
      return kExitOk;
    }
    PrintError(err, app.get_name(),
               Status(Code::kInvalidArgument, "USAGE", std::string(e.what()) + " (see --help)"));
    return kExitInvalid;
  }
}

}  // namespace tearline::cli
