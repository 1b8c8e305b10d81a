#include "tearline/base/prometheus_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tearline {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

Status Invalid(std::string what) { return InvalidArgument("METRIC_INVALID", std::move(what)); }

std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c) || c == ':'; });
}

bool IsValidMetricLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

std::string EscapeMetricLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kExact = 9007199254740992.0;  // 2^53: every whole number below is exact.
  if (value == std::floor(value) && std::fabs(value) < kExact) {
    return std::to_string(static_cast<long long>(value));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

Status PrometheusText::Declare(std::string_view name, MetricType type, std::string_view help) {
  if (!IsValidMetricName(name)) return Invalid("metric name \"" + std::string(name) + "\"");
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type) {
      return Invalid("metric " + std::string(name) + " declared again with another type");
    }
    return Status::Ok();
  }
  Family f;
  f.type = type;
  f.help = std::string(help);
  families_.emplace(std::string(name), std::move(f));
  return Status::Ok();
}

Result<PrometheusText::Family*> PrometheusText::Sample(std::string_view name,
                                                       const MetricLabels& labels, LabelSet* key) {
  auto it = families_.find(name);
  if (it == families_.end()) return Invalid("metric " + std::string(name) + " is not declared");
  *key = labels;
  std::sort(key->begin(), key->end());
  for (std::size_t i = 0; i < key->size(); ++i) {
    const std::string& label = (*key)[i].first;
    if (!IsValidMetricLabelName(label)) return Invalid("label name \"" + label + "\"");
    if (i > 0 && (*key)[i - 1].first == label) {
      return Invalid("label " + label + " appears twice in a sample of " + std::string(name));
    }
  }
  return &it->second;
}

Status PrometheusText::Set(std::string_view name, const MetricLabels& labels, double value) {
  LabelSet key;
  auto family = Sample(name, labels, &key);
  if (!family.ok()) return family.status();
  if ((*family)->type == MetricType::kCounter && (std::isnan(value) || value < 0)) {
    return Invalid("counter " + std::string(name) + " must not be negative or NaN");
  }
  (*family)->samples[std::move(key)] = value;
  return Status::Ok();
}

Status PrometheusText::Add(std::string_view name, const MetricLabels& labels, double delta) {
  LabelSet key;
  auto family = Sample(name, labels, &key);
  if (!family.ok()) return family.status();
  auto it = (*family)->samples.find(key);
  return Set(name, labels, (it == (*family)->samples.end() ? 0.0 : it->second) + delta);
}

std::string PrometheusText::Render() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
    out += "# TYPE " + name + (family.type == MetricType::kCounter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : family.samples) {
      out += name;
      if (!labels.empty()) {
        out.push_back('{');
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out.push_back(',');
          out += labels[i].first + "=\"" + EscapeMetricLabelValue(labels[i].second) + "\"";
        }
        out.push_back('}');
      }
      out += " " + FormatMetricValue(value) + "\n";
    }
  }
  return out;
}

}  // namespace tearline
