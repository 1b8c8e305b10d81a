// A strict reader of the Prometheus text exposition format 0.0.4, for tests that check what the
// broker writes for node_exporter's textfile collector. Stricter than Prometheus itself: every
// line must be a HELP, TYPE or sample line (no other comments, no blank lines), each family has
// at most one HELP and exactly one TYPE line before its samples, a family's samples are
// contiguous, no sample (name and label set) appears twice, label values use only the \\, \" and
// \n escapes, and counters are not negative.
#ifndef TEARLINE_TESTS_SUPPORT_PROMETHEUS_PARSER_H_
#define TEARLINE_TESTS_SUPPORT_PROMETHEUS_PARSER_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tearline::testing {

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;  // Unescaped values.
  double value = 0;
};

struct ParsedMetrics {
  std::map<std::string, std::string> types;  // Family name -> "counter", "gauge", ...
  std::map<std::string, std::string> help;   // Family name -> unescaped help text.
  std::vector<ParsedSample> samples;         // In file order.

  // The sample of `name` with exactly `labels`, if present.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // The sum over every sample of `name` (0 when none).
  double Sum(const std::string& name) const;
};

// Parses `text`; on the first violation returns false with `error` naming the line number.
bool ParsePrometheusText(std::string_view text, ParsedMetrics* out, std::string* error);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_PROMETHEUS_PARSER_H_
