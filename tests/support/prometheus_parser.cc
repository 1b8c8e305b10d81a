#include "prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>

namespace tearline::testing {
namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

// Reads a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) at `pos`.
std::string ReadMetricName(std::string_view line, std::size_t& pos) {
  const std::size_t start = pos;
  if (pos < line.size() && (NameStart(line[pos]) || line[pos] == ':'))
    ++pos;
  else
    return "";
  while (pos < line.size() && (NameChar(line[pos]) || line[pos] == ':')) ++pos;
  return std::string(line.substr(start, pos - start));
}

std::string ReadLabelName(std::string_view line, std::size_t& pos) {
  const std::size_t start = pos;
  if (pos < line.size() && NameStart(line[pos]))
    ++pos;
  else
    return "";
  while (pos < line.size() && NameChar(line[pos])) ++pos;
  return std::string(line.substr(start, pos - start));
}

bool ParseValue(std::string_view token, double* value) {
  if (token == "NaN")
    *value = std::nan("");
  else if (token == "+Inf")
    *value = HUGE_VAL;
  else if (token == "-Inf")
    *value = -HUGE_VAL;
  else {
    if (token.empty()) return false;
    const std::string s(token);
    char* end = nullptr;
    *value = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return false;
    // strtod also takes "inf", "nan" and hex floats; the format spells those differently.
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
        return false;
      }
    }
  }
  return true;
}

bool ParseLabels(std::string_view line, std::size_t& pos, std::map<std::string, std::string>* out,
                 std::string* why) {
  ++pos;  // '{'
  if (pos < line.size() && line[pos] == '}') {
    ++pos;
    return true;
  }
  while (true) {
    const std::string name = ReadLabelName(line, pos);
    if (name.empty() || name.starts_with("__")) {
      *why = "bad label name";
      return false;
    }
    if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
      {
        *why = "label " + name + " without =\"";
        return false;
      }
    }
    pos += 2;
    std::string value;
    bool closed = false;
    while (pos < line.size()) {
      const char c = line[pos++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (pos >= line.size()) {
          *why = "dangling escape";
          return false;
        }
        const char e = line[pos++];
        if (e == '\\')
          value.push_back('\\');
        else if (e == '"')
          value.push_back('"');
        else if (e == 'n')
          value.push_back('\n');
        else {
          *why = std::string("unknown escape \\") + e;
          return false;
        }
      } else {
        value.push_back(c);
      }
    }
    if (!closed) {
      *why = "unterminated label value";
      return false;
    }
    if (!out->emplace(name, value).second) {
      *why = "label " + name + " twice";
      return false;
    }
    if (pos >= line.size()) {
      *why = "unterminated label set";
      return false;
    }
    if (line[pos] == '}') {
      ++pos;
      return true;
    }
    if (line[pos] != ',') {
      *why = "expected , or }";
      return false;
    }
    ++pos;
  }
}

std::string UnescapeHelp(std::string_view text, bool* ok) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (++i >= text.size()) {
      *ok = false;
      return out;
    }
    if (text[i] == '\\')
      out.push_back('\\');
    else if (text[i] == 'n')
      out.push_back('\n');
    else {
      *ok = false;
      return out;
    }
  }
  return out;
}

}  // namespace

std::optional<double> ParsedMetrics::Value(const std::string& name,
                                           const std::map<std::string, std::string>& labels) const {
  for (const ParsedSample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

double ParsedMetrics::Sum(const std::string& name) const {
  double sum = 0;
  for (const ParsedSample& s : samples) {
    if (s.name == name) sum += s.value;
  }
  return sum;
}

bool ParsePrometheusText(std::string_view text, ParsedMetrics* out, std::string* error) {
  *out = ParsedMetrics{};
  if (text.empty() || text.back() != '\n') {
    *error = "the text does not end in a newline";
    return false;
  }
  std::set<std::string> finished;  // Families whose samples are over.
  std::string current;             // The family whose samples are being read.
  std::set<std::pair<std::string, std::map<std::string, std::string>>> seen;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    std::string why;
    auto fail = [&](const std::string& what) {
      *error = "line " + std::to_string(line_no) + ": " + what + ": " + std::string(line);
      return false;
    };
    if (line.empty()) return fail("blank line");
    if (line[0] == '#') {
      const bool is_help = line.starts_with("# HELP ");
      const bool is_type = line.starts_with("# TYPE ");
      if (!is_help && !is_type) return fail("a comment other than HELP or TYPE");
      std::size_t pos = 7;
      const std::string name = ReadMetricName(line, pos);
      if (name.empty()) return fail("bad metric name");
      if (finished.contains(name) || (current == name)) {
        return fail("HELP or TYPE after the family's samples");
      }
      if (pos < line.size() && line[pos] != ' ') return fail("bad metric name");
      const std::string_view rest = pos < line.size() ? line.substr(pos + 1) : std::string_view();
      if (is_help) {
        bool ok = true;
        std::string help = UnescapeHelp(rest, &ok);
        if (!ok) return fail("bad escape in HELP");
        if (!out->help.emplace(name, help).second) return fail("second HELP");
      } else {
        static const std::set<std::string_view> kTypes = {"counter", "gauge", "histogram",
                                                          "summary", "untyped"};
        if (!kTypes.contains(rest)) return fail("unknown type");
        if (!out->types.emplace(name, std::string(rest)).second) return fail("second TYPE");
      }
      continue;
    }
    std::size_t pos = 0;
    ParsedSample sample;
    sample.name = ReadMetricName(line, pos);
    if (sample.name.empty()) return fail("bad metric name");
    auto type = out->types.find(sample.name);
    if (type == out->types.end()) return fail("sample before its family's TYPE");
    if (sample.name != current) {
      if (finished.contains(sample.name)) return fail("the family's samples are not contiguous");
      if (!current.empty()) finished.insert(current);
      current = sample.name;
    }
    if (pos < line.size() && line[pos] == '{' && !ParseLabels(line, pos, &sample.labels, &why)) {
      return fail(why);
    }
    if (pos >= line.size() || line[pos] != ' ') return fail("no value");
    const std::string_view rest = line.substr(pos + 1);
    const std::size_t space = rest.find(' ');
    if (!ParseValue(rest.substr(0, space), &sample.value)) return fail("bad value");
    if (space != std::string_view::npos) {
      const std::string_view ts = rest.substr(space + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
        return fail("bad timestamp");
      }
    }
    if (type->second == "counter" && !(sample.value >= 0)) return fail("negative counter");
    if (!seen.emplace(sample.name, sample.labels).second) return fail("duplicate sample");
    out->samples.push_back(std::move(sample));
  }
  return true;
}

}  // namespace tearline::testing
