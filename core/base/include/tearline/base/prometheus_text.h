// PrometheusText: a page of counters and gauges, each family with any number of label sets,
// rendered in the Prometheus text exposition format 0.0.4 (what node_exporter's textfile
// collector and a scrape of /metrics read).
//
// The rules it enforces, so that no value a caller passes can make the page unreadable (one bad
// line makes the textfile collector drop the whole file):
//   - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
//     start with "__" (reserved), no label name twice in one sample;
//   - label values are any text: backslash, double quote and newline are escaped (\\, \", \n);
//     HELP text escapes backslash and newline;
//   - counters are never negative nor NaN; values are written as integers when they are whole
//     (below 2^53), else with 17 significant digits; NaN and infinities as NaN, +Inf, -Inf.
// The output is deterministic: families in name order, samples in the order of their label sets
// (label names sorted), one HELP and one TYPE line before each family's samples, no timestamps.
//
// Ownership: a plain value. Thread-safety: none (one writer at a time).
#ifndef TEARLINE_BASE_PROMETHEUS_TEXT_H_
#define TEARLINE_BASE_PROMETHEUS_TEXT_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tearline/base/status.h"

namespace tearline {

enum class MetricType { kCounter, kGauge };

// Label name -> value. Order does not matter: a sample is identified by the set.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // Declares a family. Declaring it again with the same type keeps its samples (the help text
  // of the first declaration stays). Errors: METRIC_INVALID (a name that breaks the rules, or a
  // second declaration with another type).
  [[nodiscard]] Status Declare(std::string_view name, MetricType type, std::string_view help);
  // Sets the sample of family `name` with `labels` to `value` (replacing an earlier value of the
  // same label set). Errors: METRIC_INVALID (family not declared, a label name that breaks the
  // rules or appears twice, a negative or NaN counter).
  [[nodiscard]] Status Set(std::string_view name, const MetricLabels& labels, double value);
  // Adds `delta` to the sample (0 when absent). Same errors as Set.
  [[nodiscard]] Status Add(std::string_view name, const MetricLabels& labels, double delta);

  // The page: every declared family (a family without samples has only its HELP and TYPE lines),
  // each line ending in '\n'.
  std::string Render() const;

 private:
  using LabelSet = std::vector<std::pair<std::string, std::string>>;  // Sorted by name.
  struct Family {
    MetricType type = MetricType::kGauge;
    std::string help;
    std::map<LabelSet, double> samples;
  };
  Result<Family*> Sample(std::string_view name, const MetricLabels& labels, LabelSet* key);

  std::map<std::string, Family, std::less<>> families_;
};

bool IsValidMetricName(std::string_view name);
bool IsValidMetricLabelName(std::string_view name);
// `value` with backslash, double quote and newline escaped, for use between the quotes.
std::string EscapeMetricLabelValue(std::string_view value);
// A sample value as the format spells it (see above).
std::string FormatMetricValue(double value);

}  // namespace tearline

#endif  // TEARLINE_BASE_PROMETHEUS_TEXT_H_
