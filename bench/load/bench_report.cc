#include "bench_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tearline::bench {
namespace {

using nlohmann::json;

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string Fixed(double v, int digits) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", digits, v);
  return buf.data();
}

std::string Ratio(double num, double den) {
  return den > 0 ? Fixed(num / den, 3) : std::string("n/a");
}

std::string OrNa(const std::optional<double>& v, int digits) {
  return v ? Fixed(*v, digits) : std::string("n/a");
}

double Div(double a, double b) { return b > 0 ? a / b : 0; }

// One latency summary as JSON, and back (both percentile sets of a run use the same shape).
json LatencyToJson(const LatencySummary& l) {
  return {{"count", l.count},
          {"p50", l.p50_ms},
          {"p90", l.p90_ms},
          {"p99", l.p99_ms},
          {"max", l.max_ms}};
}
LatencySummary LatencyFromJson(const json& l) {
  LatencySummary s;
  s.count = l.value("count", std::uint64_t{0});
  s.p50_ms = l.value("p50", 0.0);
  s.p90_ms = l.value("p90", 0.0);
  s.p99_ms = l.value("p99", 0.0);
  s.max_ms = l.value("max", 0.0);
  return s;
}

}  // namespace

LatencySummary Summarize(std::vector<double> ms) {
  LatencySummary s;
  s.count = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.p50_ms = Percentile(ms, 0.50);
  s.p90_ms = Percentile(ms, 0.90);
  s.p99_ms = Percentile(ms, 0.99);
  s.max_ms = ms.back();
  return s;
}

std::optional<double> RunReport::BrokerSyncsPerReport() const {
  for (const auto& p : processes) {
    if (p.name == "broker" && p.syncs && accepted > 0) {
      return static_cast<double>(*p.syncs) / static_cast<double>(accepted);
    }
  }
  return std::nullopt;
}

std::optional<double> RunReport::NodeSyncsPerReport() const {
  std::uint64_t total = 0;
  int counted = 0;
  for (const auto& p : processes) {
    if (p.name == "broker" || p.name == "bench") continue;
    if (!p.syncs) return std::nullopt;
    total += *p.syncs;
    ++counted;
  }
  // Each report is handled by one node as sender and by `recipients` nodes as recipient.
  const double handled = static_cast<double>(accepted) * (1.0 + recipients);
  if (counted == 0 || handled <= 0) return std::nullopt;
  return static_cast<double>(total) / handled;
}

double RunReport::BrokerBytesPerReportByte() const {
  for (const auto& p : processes) {
    if (p.name == "broker") {
      return Div(static_cast<double>(p.write_bytes),
                 static_cast<double>(accepted) * static_cast<double>(size));
    }
  }
  return 0;
}

double RunReport::AcknowledgedReportsPerS() const {
  const double copies_per_report =
      Div(static_cast<double>(expected_copies), static_cast<double>(accepted));
  return Div(acknowledged_per_s, copies_per_report);
}

double RunReport::DurableFloorMs() const {
  if (baselines.append_fdatasync_per_s <= 0) return OverwriteFloorMs();
  return Div(DurableHops() * 1000.0, baselines.append_fdatasync_per_s);
}

double RunReport::OverwriteFloorMs() const {
  return Div(DurableHops() * 1000.0, baselines.fdatasync_per_s);
}

std::string ToJson(const RunReport& r) {
  json procs = json::array();
  for (const auto& p : r.processes) {
    json j = {{"name", p.name},
              {"cpu_seconds", p.cpu_seconds},
              {"write_bytes", p.write_bytes},
              {"peak_rss_kib", p.peak_rss_kib}};
    j["syncs"] = p.syncs ? json(*p.syncs) : json(nullptr);
    procs.push_back(j);
  }
  json j = {
      {"config",
       {{"mode", r.mode},
        {"nodes", r.nodes},
        {"rate", r.rate},
        {"reports", r.reports},
        {"size", r.size},
        {"portions", r.portions},
        {"recipients", r.recipients},
        {"queue_depth", r.queue_depth}}},
      {"submitted", r.submitted},
      {"accepted", r.accepted},
      {"refused", r.refused},
      {"first_refusal", r.first_refusal},
      {"expected", r.expected_copies},
      {"delivered", r.delivered_copies},
      {"duplicates", r.duplicate_copies},
      {"acknowledged", r.acknowledged_copies},
      {"seconds",
       {{"accept", r.accept_seconds}, {"deliver", r.deliver_seconds}, {"ack", r.ack_seconds}}},
      {"throughput",
       {{"accepted_per_s", r.accepted_per_s},
        {"delivered_per_s", r.delivered_per_s},
        {"acknowledged_per_s", r.acknowledged_per_s},
        {"accepted_mib_per_s", r.accepted_mib_per_s}}},
      {"latency_ms", LatencyToJson(r.latency)},
      {"latency_to_rename_ms", LatencyToJson(r.stored_latency)},
      {"processes", procs},
      {"syncs_unavailable", r.syncs_unavailable},
      {"load_average", r.load_average},
      {"drain",
       {{"copies", r.drain_copies},
        {"copies_per_s", r.drain_per_s},
        {"broker_peak_rss_kib", r.drain_broker_peak_rss_kib}}},
      {"baselines",
       {{"ed25519_verify_per_s", r.baselines.ed25519_verify_per_s},
        {"sha256_mib_per_s", r.baselines.sha256_mib_per_s},
        {"fdatasync_per_s", r.baselines.fdatasync_per_s},
        {"append_fdatasync_per_s", r.baselines.append_fdatasync_per_s},
        {"filesystem", r.baselines.filesystem},
        {"relay_msgs_per_s", r.baselines.relay_msgs_per_s},
        {"relay_mib_per_s", r.baselines.relay_mib_per_s}}},
  };
  json ratios = {
      {"accepted_per_ed25519_verify", Div(r.accepted_per_s, r.baselines.ed25519_verify_per_s)},
      {"acknowledged_per_accepted", Div(r.AcknowledgedReportsPerS(), r.accepted_per_s)},
      {"accepted_per_relay_msg", Div(r.accepted_per_s, r.baselines.relay_msgs_per_s)},
      {"durable_floor_ms", r.DurableFloorMs()},
      {"overwrite_floor_ms", r.OverwriteFloorMs()},
      {"p99_per_durable_floor", Div(r.latency.p99_ms, r.DurableFloorMs())},
      {"p99_per_overwrite_floor", Div(r.latency.p99_ms, r.OverwriteFloorMs())},
      {"broker_bytes_written_per_report_byte", r.BrokerBytesPerReportByte()},
  };
  ratios["broker_syncs_per_report"] =
      r.BrokerSyncsPerReport() ? json(*r.BrokerSyncsPerReport()) : json(nullptr);
  ratios["node_syncs_per_report"] =
      r.NodeSyncsPerReport() ? json(*r.NodeSyncsPerReport()) : json(nullptr);
  j["ratios"] = ratios;
  return j.dump(2) + "\n";
}

Result<RunReport> FromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("config")) {
    return InvalidArgument("BENCH_JSON", "not a tearline-bench --json file");
  }
  RunReport r;
  try {
    const json& c = j.at("config");
    r.mode = c.value("mode", "");
    r.nodes = c.value("nodes", 0);
    r.rate = c.value("rate", 0.0);
    r.reports = c.value("reports", std::uint64_t{0});
    r.size = c.value("size", std::uint64_t{0});
    r.portions = c.value("portions", 0);
    r.recipients = c.value("recipients", 0);
    r.queue_depth = c.value("queue_depth", std::uint64_t{0});
    r.submitted = j.value("submitted", std::uint64_t{0});
    r.accepted = j.value("accepted", std::uint64_t{0});
    r.refused = j.value("refused", std::uint64_t{0});
    r.expected_copies = j.value("expected", std::uint64_t{0});
    r.delivered_copies = j.value("delivered", std::uint64_t{0});
    r.duplicate_copies = j.value("duplicates", std::uint64_t{0});
    r.acknowledged_copies = j.value("acknowledged", std::uint64_t{0});
    const json& t = j.at("throughput");
    r.accepted_per_s = t.value("accepted_per_s", 0.0);
    r.delivered_per_s = t.value("delivered_per_s", 0.0);
    r.acknowledged_per_s = t.value("acknowledged_per_s", 0.0);
    r.accepted_mib_per_s = t.value("accepted_mib_per_s", 0.0);
    r.latency = LatencyFromJson(j.at("latency_ms"));
    if (j.contains("latency_to_rename_ms")) {
      r.stored_latency = LatencyFromJson(j.at("latency_to_rename_ms"));
    }
    for (const json& p : j.at("processes")) {
      ProcessCost cost;
      cost.name = p.value("name", "");
      cost.cpu_seconds = p.value("cpu_seconds", 0.0);
      cost.write_bytes = p.value("write_bytes", std::uint64_t{0});
      cost.peak_rss_kib = p.value("peak_rss_kib", std::uint64_t{0});
      if (p.contains("syncs") && p["syncs"].is_number())
        cost.syncs = p["syncs"].get<std::uint64_t>();
      r.processes.push_back(cost);
    }
    r.syncs_unavailable = j.value("syncs_unavailable", "");
    r.load_average = j.value("load_average", -1.0);
    const json& d = j.at("drain");
    r.drain_copies = d.value("copies", std::uint64_t{0});
    r.drain_per_s = d.value("copies_per_s", 0.0);
    r.drain_broker_peak_rss_kib = d.value("broker_peak_rss_kib", std::uint64_t{0});
    const json& b = j.at("baselines");
    r.baselines.ed25519_verify_per_s = b.value("ed25519_verify_per_s", 0.0);
    r.baselines.sha256_mib_per_s = b.value("sha256_mib_per_s", 0.0);
    r.baselines.fdatasync_per_s = b.value("fdatasync_per_s", 0.0);
    r.baselines.append_fdatasync_per_s = b.value("append_fdatasync_per_s", 0.0);
    r.baselines.filesystem = b.value("filesystem", "");
    r.baselines.relay_msgs_per_s = b.value("relay_msgs_per_s", 0.0);
    r.baselines.relay_mib_per_s = b.value("relay_mib_per_s", 0.0);
  } catch (const json::exception& e) {
    return InvalidArgument("BENCH_JSON", std::string("unexpected field type: ") + e.what());
  }
  return r;
}

std::string ToText(const RunReport& r) {
  std::ostringstream o;
  const auto& b = r.baselines;
  o << "tearline-bench: mode=" << r.mode << " nodes=" << r.nodes << " reports=" << r.reports
    << " size=" << r.size << " portions=" << r.portions << " recipients=" << r.recipients
    << " rate=" << (r.rate > 0 ? Fixed(r.rate, 0) + "/s" : std::string("flat-out"))
    << " queue_depth=" << r.queue_depth << " load_average=" << Fixed(r.load_average, 2) << "\n";
  o << "  reports: submitted " << r.submitted << ", accepted " << r.accepted << ", refused "
    << r.refused << (r.first_refusal.empty() ? "" : " (first: " + r.first_refusal + ")") << "\n";
  o << "  copies: expected " << r.expected_copies << ", delivered " << r.delivered_copies
    << ", duplicates " << r.duplicate_copies << ", acknowledged " << r.acknowledged_copies << "\n";
  o << "  throughput: " << Fixed(r.accepted_per_s, 1) << " accepted/s ("
    << Fixed(r.accepted_mib_per_s, 2) << " MiB/s), " << Fixed(r.delivered_per_s, 1)
    << " copies delivered/s, " << Fixed(r.acknowledged_per_s, 1) << " copies acknowledged/s\n";
  auto latency_line = [&o](const char* what, const LatencySummary& l) {
    o << "  latency " << what << " (ms): p50 " << Fixed(l.p50_ms, 2) << "  p90 "
      << Fixed(l.p90_ms, 2) << "  p99 " << Fixed(l.p99_ms, 2) << "  max " << Fixed(l.max_ms, 2)
      << "  (" << l.count << " copies)\n";
  };
  if (r.mode == "e2e") {
    latency_line("to the recipient's durable inbox (after its sync)", r.latency);
    latency_line("to the rename into the inbox (before its sync)", r.stored_latency);
  } else {
    latency_line("to the recipient", r.latency);
  }
  o << "  per process (measured window):\n";
  for (const auto& p : r.processes) {
    o << "    " << p.name << ": cpu " << Fixed(p.cpu_seconds, 2) << " s, written " << p.write_bytes
      << " B ("
      << Fixed(Div(static_cast<double>(p.write_bytes), static_cast<double>(r.accepted)), 0)
      << " B/report), peak RSS " << p.peak_rss_kib / 1024 << " MiB, syncs "
      << (p.syncs
              ? std::to_string(*p.syncs) + " (" +
                    Fixed(Div(static_cast<double>(*p.syncs), static_cast<double>(r.accepted)), 2) +
                    "/report)"
              : "n/a (" +
                    (r.syncs_unavailable.empty() ? std::string("not counted")
                                                 : r.syncs_unavailable) +
                    ")")
      << "\n";
  }
  if (r.queue_depth > 0) {
    o << "  queue drain: " << r.drain_copies << " copies at " << Fixed(r.drain_per_s, 1)
      << " copies/s; broker peak RSS " << r.drain_broker_peak_rss_kib / 1024 << " MiB\n";
  }
  o << "  baselines (same run): ed25519 verify " << Fixed(b.ed25519_verify_per_s, 0)
    << "/s (one core), sha256 " << Fixed(b.sha256_mib_per_s, 0) << " MiB/s, fdatasync "
    << Fixed(b.fdatasync_per_s, 0) << "/s (4 KiB overwrite), " << Fixed(b.append_fdatasync_per_s, 0)
    << "/s (4 KiB append) on " << b.filesystem << ", CURVE relay " << Fixed(b.relay_msgs_per_s, 0)
    << " msgs/s (" << Fixed(b.relay_mib_per_s, 1) << " MiB/s)\n";
  o << "  ratios: accepted/s / ed25519 verifies/s = "
    << Ratio(r.accepted_per_s, b.ed25519_verify_per_s) << "; acknowledged reports/s / accepted/s = "
    << Ratio(r.AcknowledgedReportsPerS(), r.accepted_per_s)
    << "; accepted/s / relay msgs/s = " << Ratio(r.accepted_per_s, b.relay_msgs_per_s)
    << "; p99 / durable floor (" << r.DurableHops() << " x append + fdatasync, "
    << Fixed(r.DurableFloorMs(), 2) << " ms) = " << Ratio(r.latency.p99_ms, r.DurableFloorMs())
    << "; p99 / overwrite floor (" << Fixed(r.OverwriteFloorMs(), 2)
    << " ms) = " << Ratio(r.latency.p99_ms, r.OverwriteFloorMs())
    << "; broker syncs/report = " << OrNa(r.BrokerSyncsPerReport(), 3)
    << "; node syncs/report = " << OrNa(r.NodeSyncsPerReport(), 3)
    << "; broker bytes written/report byte = " << Fixed(r.BrokerBytesPerReportByte(), 2) << "\n";
  return o.str();
}

std::string ToMarkdown(const std::vector<RunReport>& reports) {
  std::ostringstream o;
  o << "| mode | nodes | size | portions | recipients | rate | queue | accepted/s | "
       "acked copies/s | p50 ms | p99 ms | broker syncs/report | node syncs/report | "
       "broker B written/B | broker CPU s | broker RSS MiB | accepted/ed25519 | acked/accepted "
       "| accepted/relay | p99/floor | floor ms | overwrite floor ms | drain copies/s | "
       "delivered/expected |\n";
  o << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
       "---|---|\n";
  for (const auto& r : reports) {
    double cpu = 0;
    std::uint64_t rss = 0;
    for (const auto& p : r.processes) {
      if (p.name == "broker") {
        cpu = p.cpu_seconds;
        rss = p.peak_rss_kib;
      }
    }
    o << "| " << r.mode << " | " << r.nodes << " | " << r.size << " | " << r.portions << " | "
      << r.recipients << " | " << (r.rate > 0 ? Fixed(r.rate, 0) : std::string("max")) << " | "
      << r.queue_depth << " | " << Fixed(r.accepted_per_s, 0) << " | "
      << Fixed(r.acknowledged_per_s, 0) << " | " << Fixed(r.latency.p50_ms, 1) << " | "
      << Fixed(r.latency.p99_ms, 1) << " | " << OrNa(r.BrokerSyncsPerReport(), 2) << " | "
      << OrNa(r.NodeSyncsPerReport(), 2) << " | " << Fixed(r.BrokerBytesPerReportByte(), 1) << " | "
      << Fixed(cpu, 2) << " | " << rss / 1024 << " | "
      << Ratio(r.accepted_per_s, r.baselines.ed25519_verify_per_s) << " | "
      << Ratio(r.AcknowledgedReportsPerS(), r.accepted_per_s) << " | "
      << Ratio(r.accepted_per_s, r.baselines.relay_msgs_per_s) << " | "
      << Ratio(r.latency.p99_ms, r.DurableFloorMs()) << " | " << Fixed(r.DurableFloorMs(), 2)
      << " | " << Fixed(r.OverwriteFloorMs(), 2) << " | "
      << (r.queue_depth > 0 ? Fixed(r.drain_per_s, 0) : std::string("-")) << " | "
      << r.delivered_copies << "/" << r.expected_copies << " |\n";
  }
  return o.str();
}

}  // namespace tearline::bench
