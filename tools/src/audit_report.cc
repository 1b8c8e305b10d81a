// The auditor's HTML report: one self-contained page (inline CSS, no scripts, no external
// resources) so it can be archived, mailed and opened on an air-gapped machine.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/safe_text.h"
#include "tearline/labels/policy.h"
#include "tearline/tools/audit_command.h"
#include "tearline/tools/audit_stats.h"

namespace tearline::tools {
namespace {

// HTML-escaped, after TerminalSafe: bidirectional overrides reorder text in a browser too.
std::string Esc(std::string_view raw) {
  const std::string s = TerminalSafe(raw);
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string Seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

std::string Percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

// "p50 A, p90 B, max C" (or "-" when nothing was measured).
std::string TurnaroundText(const std::vector<double>& seconds) {
  const Turnaround t = SummariseTurnaround(seconds);
  if (t.count == 0) return "-";
  return "p50 " + Seconds(t.p50) + ", p90 " + Seconds(t.p90) + ", max " + Seconds(t.max);
}

// Three table cells: p50, p90, max ("–" when nothing was measured).
std::string TurnaroundCells(const std::vector<double>& seconds) {
  const Turnaround t = SummariseTurnaround(seconds);
  if (t.count == 0)
    return "<td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td>";
  return "<td class=\"num\">" + Seconds(t.p50) + "</td><td class=\"num\">" + Seconds(t.p90) +
         "</td><td class=\"num\">" + Seconds(t.max) + "</td>";
}

void CountTable(std::ostringstream& h, const char* id, const char* head,
                const std::map<std::string, std::uint64_t>& counts) {
  h << "<table id=\"" << id << "\"><tr><th>" << head << "</th><th>records</th></tr>\n";
  if (counts.empty()) h << "<tr><td colspan=\"2\" class=\"none\">none</td></tr>\n";
  for (const auto& [k, v] : counts) {
    h << "<tr><td>" << Esc(k) << "</td><td class=\"num\">" << v << "</td></tr>\n";
  }
  h << "</table>\n";
}

constexpr const char* kCss = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2430;
  background:#fbfbfd;max-width:70em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;
  border-bottom:1px solid #ccd;padding-bottom:.2em}
.meta{color:#556;font-size:.9em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccd;padding:.3em .6em;text-align:left}
th{background:#eef0f5}td.num,td.heat{text-align:right;font-variant-numeric:tabular-nums}
td.heat{min-width:3em}
.verdict{font-size:1.4em;font-weight:bold;padding:.4em .8em;display:inline-block;border-radius:4px}
.pass{background:#d8f3dc;color:#1b4332}.fail{background:#ffd6d6;color:#7a0010}
.unwitnessed{background:#fff3c4;color:#5c4400}
.none{color:#889}code{font-size:.9em;word-break:break-all}
)";

}  // namespace

std::string RenderAuditReportHtml(const AuditVerifyOptions& options,
                                  const std::vector<AuditRecord>& records,
                                  const AuditVerifyResult& verification) {
  std::optional<Policy> policy;
  if (auto p = Policy::LoadFile((options.dir / "policy.toml").string()); p.ok()) {
    policy = std::move(p).value();
  }
  const AuditStats s = ComputeAuditStats(records, policy ? &*policy : nullptr);
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<title>Tearline audit report</title>\n<style>" << kCss << "</style></head><body>\n";
  h << "<h1>Tearline audit report</h1>\n<p class=\"meta\">Log <code>"
    << Esc(verification.origin.empty() ? "(unknown origin)" : verification.origin) << "</code>, "
    << records.size() << " records";
  if (!records.empty()) {
    h << " from " << FormatAuditTime(records.front().time) << " to "
      << FormatAuditTime(records.back().time);
  }
  if (policy) h << ", policy " << Esc(policy->name()) << " " << Esc(policy->version());
  h << ".</p>\n";

  h << "<h2>Verification</h2>\n";
  if (verification.ok()) {
    h << "<p id=\"verdict\" class=\"verdict "
      << (verification.unwitnessed() ? "unwitnessed" : "pass") << "\">"
      << AuditVerdict(verification) << "</p>\n<p id=\"verdict-detail\">" << verification.records
      << " records, " << verification.checkpoints << " signed checkpoints";
    if (verification.latest) {
      h << " (latest size " << verification.latest->tree_size << ")";
    }
    h << ", " << verification.cosignatures << " witness cosignatures, "
      << verification.trusted_checkpoints << " trusted checkpoints, "
      << verification.deliveries_checked << " deliveries re-decided under the logged policy.</p>\n";
    if (verification.unwitnessed()) {
      h << "<p id=\"trust-note\">No witness cosigned and no trusted checkpoint matched: the "
           "history rests on the broker's signature alone.</p>\n";
    }
    if (!verification.root_pinned) {
      h << "<p id=\"root-note\">The coalition root was read from the audit directory itself "
           "(not pinned with --ca).</p>\n";
    }
  } else {
    h << "<p id=\"verdict\" class=\"verdict fail\">FAIL</p>\n<p id=\"verdict-detail\">"
      << Esc(verification.failure->ToString()) << "</p>\n"
      << "<p>The figures below are computed from the records as they are and cannot be "
         "relied on.</p>\n";
  }

  h << "<h2>Who shared with whom</h2>\n<p>Reports delivered, by originator nation (rows) and "
       "recipient nation (columns); darker is more.</p>\n";
  std::uint64_t max = 0;
  for (const auto& [f, row] : s.matrix) {
    for (const auto& [t, v] : row) max = std::max(max, v);
  }
  h << "<table id=\"matrix\"><tr><th>from \\ to</th>";
  for (const auto& t : s.to_nations) h << "<th>" << Esc(t) << "</th>";
  h << "</tr>\n";
  if (s.from_nations.empty()) {
    h << "<tr><td class=\"none\">no deliveries</td></tr>\n";
  }
  for (const auto& f : s.from_nations) {
    h << "<tr><th>" << Esc(f) << "</th>";
    for (const auto& t : s.to_nations) {
      const auto& row = s.matrix.at(f);
      const auto it = row.find(t);
      const std::uint64_t v = it == row.end() ? 0 : it->second;
      const double alpha =
          v == 0 ? 0.0 : 0.15 + 0.85 * static_cast<double>(v) / static_cast<double>(max);
      char style[96];
      std::snprintf(style, sizeof style, "background-color:rgba(178,34,52,%.2f);color:%s", alpha,
                    alpha > 0.55 ? "#fff" : "#1d2430");
      h << "<td class=\"heat\" data-from=\"" << Esc(f) << "\" data-to=\"" << Esc(t) << "\" style=\""
        << style << "\" title=\"" << Esc(f) << " to " << Esc(t) << ": " << v << "\">" << v
        << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Denials</h2>\n";
  CountTable(h, "denied-by-reason", "reason", s.denied_by_reason);
  CountTable(h, "denied-by-nation", "recipient nation", s.denied_by_nation);

  h << "<h2>Restrictive markings</h2>\n<table id=\"markings\">"
    << "<tr><th>accepted reports</th><td class=\"num\">" << s.accepted << "</td><td></td></tr>\n";
  if (s.rollup_available) {
    h << "<tr><th>banner (roll-up) NOFORN</th><td class=\"num\">" << s.noforn_banner
      << "</td><td class=\"num\" id=\"share-noforn\">" << Percent(s.noforn_banner, s.accepted)
      << "</td></tr>\n<tr><th>a classified portion without releasability marking</th>"
      << "<td class=\"num\">" << s.unmarked_portion << "</td><td class=\"num\">"
      << Percent(s.unmarked_portion, s.accepted) << "</td></tr>\n"
      << "<tr><th>either</th><td class=\"num\">" << s.either
      << "</td><td class=\"num\" id=\"share-restrictive\">" << Percent(s.either, s.accepted)
      << "</td></tr>\n";
  } else {
    h << "<tr><td colspan=\"3\" class=\"none\">policy.toml unavailable: cannot roll up "
         "labels</td></tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Time from submission to delivery</h2>\n<p>Accepted record to the first delivery "
       "to each recipient (including deliveries from the queue).</p>\n<table id=\"latency\">";
  if (s.latencies.empty()) {
    h << "<tr><td class=\"none\">no deliveries</td></tr>";
  } else {
    const auto& l = s.latencies;
    const std::size_t n = l.size();
    const double median = n % 2 == 1 ? l[n / 2] : (l[n / 2 - 1] + l[n / 2]) / 2;
    h << "<tr><th>deliveries</th><td class=\"num\">" << n << "</td></tr>"
      << "<tr><th>min</th><td class=\"num\" id=\"latency-min\">" << Seconds(l.front())
      << "</td></tr><tr><th>median</th><td class=\"num\" id=\"latency-median\">" << Seconds(median)
      << "</td></tr><tr><th>max</th><td class=\"num\" id=\"latency-max\">" << Seconds(l.back())
      << "</td></tr>";
  }
  h << "</table>\n<p>By originator nation and recipient nation:</p>\n"
    << "<table id=\"latency-by-pair\"><tr><th>originator → recipient</th><th>deliveries</th>"
       "<th>p50</th><th>p90</th><th>max</th></tr>\n";
  if (s.delivery_by_pair.empty()) {
    h << "<tr><td colspan=\"5\" class=\"none\">no deliveries</td></tr>\n";
  }
  for (const auto& [pair, seconds] : s.delivery_by_pair) {
    h << "<tr><td>" << Esc(pair) << "</td><td class=\"num\">" << seconds.size() << "</td>"
      << TurnaroundCells(seconds) << "</tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Release requests</h2>\n<p>By originator nation and the nation asked for: requests, "
       "decisions, how many a standing authorisation approved, sanitised versions, and the "
       "time from request to decision (p50, p90, max). The bar shows the share approved.</p>\n"
    << "<table id=\"releases\"><tr><th>originator → nation</th><th>requested</th>"
       "<th>approved</th><th>denied</th><th>standing authorisation</th><th>sanitised</th>"
       "<th>turnaround p50</th><th>p90</th><th>max</th><th>approved share</th></tr>\n";
  if (s.releases.empty())
    h << "<tr><td colspan=\"10\" class=\"none\">no release requests</td></tr>\n";
  for (const auto& [pair, p] : s.releases) {
    const std::uint64_t decided = p.approved + p.denied;
    const double share =
        decided == 0 ? 0.0 : static_cast<double>(p.approved) / static_cast<double>(decided);
    char bar[160];
    std::snprintf(bar, sizeof bar,
                  "<div class=\"bar\" style=\"width:%.0fpx;height:10px;"
                  "background-color:#2e7d32\"></div>",
                  120.0 * share);
    h << "<tr><td>" << Esc(pair) << "</td><td class=\"num\">" << p.requested
      << "</td><td class=\"num\">" << p.approved << "</td><td class=\"num\">" << p.denied
      << "</td><td class=\"num\">" << p.automatic << " (" << Percent(p.automatic, p.approved)
      << ")</td><td class=\"num\">" << p.sanitised << "</td>" << TurnaroundCells(p.turnaround)
      << "<td>" << bar << Percent(p.approved, decided) << "</td></tr>\n";
  }
  h << "</table>\n";
  CountTable(h, "release-denials", "denial reason (the originator's words)", s.release_denials);

  h << "<h2>Forwards</h2>\n<p>Portions re-shared within the originator's label, by the "
       "forwarder's nation and the target nation: forwards accepted (<code>forwarded</code>) "
       "and refused (<code>forward_refused</code>, with the reasons).</p>\n"
    << "<table id=\"forwards\"><tr><th>forwarder → target</th><th>forwarded</th>"
       "<th>refused</th><th>refusal reasons</th></tr>\n";
  if (s.forwards.empty()) h << "<tr><td colspan=\"4\" class=\"none\">no forwards</td></tr>\n";
  for (const auto& [pair, f] : s.forwards) {
    std::string reasons;
    for (const auto& [reason, n] : f.refused_by_reason) {
      reasons += (reasons.empty() ? "" : ", ") + reason + "=" + std::to_string(n);
    }
    h << "<tr><td>" << Esc(pair) << "</td><td class=\"num\">" << f.forwarded
      << "</td><td class=\"num\">" << f.refused << "</td><td>" << Esc(reasons) << "</td></tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Derived material</h2>\n<p>Portions written from received material (signed "
       "provenance on <code>accepted</code>), by the originator's nation: contributions whose "
       "nation the label still releases to, those it excludes, and the originators' overrides "
       "with their reasons.</p>\n"
    << "<table id=\"provenance\"><tr><th>originator</th><th>derived portions</th>"
       "<th>contributors kept</th><th>contributors excluded</th><th>overrides</th>"
       "<th>override reasons</th></tr>\n";
  if (s.provenance.empty()) {
    h << "<tr><td colspan=\"6\" class=\"none\">no derived portions</td></tr>\n";
  }
  for (const auto& [nation, p] : s.provenance) {
    std::string reasons;
    for (const auto& [reason, n] : p.override_reasons) {
      reasons += (reasons.empty() ? "" : "; ") + reason + " (" + std::to_string(n) + ")";
    }
    h << "<tr><td>" << Esc(nation) << "</td><td class=\"num\">" << p.derived_portions
      << "</td><td class=\"num\">" << p.contributors_kept << "</td><td class=\"num\">"
      << p.contributors_excluded << "</td><td class=\"num\">" << p.overrides << "</td><td>"
      << Esc(reasons) << "</td></tr>\n";
  }
  h << "</table>\n";

  h << "<h2>Records by type</h2>\n";
  CountTable(h, "types", "type", s.types);
  h << "</body></html>\n";
  return h.str();
}

std::string RenderAuditReportText(const AuditVerifyOptions& options,
                                  const std::vector<AuditRecord>& records,
                                  const AuditVerifyResult& verification) {
  std::optional<Policy> policy;
  if (auto p = Policy::LoadFile((options.dir / "policy.toml").string()); p.ok()) {
    policy = std::move(p).value();
  }
  const AuditStats s = ComputeAuditStats(records, policy ? &*policy : nullptr);
  std::ostringstream t;
  t << "Audit summary of "
    << TerminalSafe(verification.origin.empty() ? "(unknown origin)" : verification.origin) << ": "
    << records.size() << " records";
  if (!records.empty()) {
    t << " from " << FormatAuditTime(records.front().time) << " to "
      << FormatAuditTime(records.back().time);
  }
  if (policy) t << ", policy " << TerminalSafe(policy->name() + " " + policy->version());
  t << "\n";
  if (verification.ok()) {
    t << "  verification: " << AuditVerdict(verification) << " (" << verification.checkpoints
      << " signed checkpoints, " << verification.cosignatures << " witness cosignatures, "
      << verification.trusted_checkpoints << " trusted checkpoints, "
      << verification.deliveries_checked << " deliveries re-decided under the logged policy)\n";
  } else {
    t << "  verification: FAIL " << TerminalSafe(verification.failure->ToString())
      << "\n  (the figures below are computed from the records as they are)\n";
  }
  t << "  shared (reports delivered, originator nation -> recipient nation):\n";
  if (s.matrix.empty()) t << "    none\n";
  for (const auto& [from, row] : s.matrix) {
    for (const auto& [to, n] : row) {
      t << "    " << TerminalSafe(from) << " -> " << TerminalSafe(to) << ": " << n << "\n";
    }
  }
  const auto counts = [&t](const char* head, const std::map<std::string, std::uint64_t>& m) {
    t << "  " << head << ":";
    if (m.empty()) t << " none";
    for (const auto& [k, v] : m) t << " " << TerminalSafe(k) << "=" << v;
    t << "\n";
  };
  counts("denials by reason", s.denied_by_reason);
  counts("denials by recipient nation", s.denied_by_nation);
  if (s.rollup_available) {
    t << "  restrictive markings: " << s.noforn_banner << " of " << s.accepted
      << " accepted reports roll up to NOFORN (" << Percent(s.noforn_banner, s.accepted) << "), "
      << s.unmarked_portion << " have a classified portion without releasability marking ("
      << Percent(s.unmarked_portion, s.accepted) << ")\n";
  } else {
    t << "  restrictive markings: policy.toml unavailable, labels not rolled up\n";
  }
  if (s.latencies.empty()) {
    t << "  submission to delivery: no deliveries\n";
  } else {
    const auto& l = s.latencies;
    const std::size_t n = l.size();
    const double median = n % 2 == 1 ? l[n / 2] : (l[n / 2 - 1] + l[n / 2]) / 2;
    t << "  submission to delivery over " << n << " deliveries: min " << Seconds(l.front())
      << ", median " << Seconds(median) << ", max " << Seconds(l.back()) << "\n";
    for (const auto& [pair, seconds] : s.delivery_by_pair) {
      t << "    " << TerminalSafe(pair) << ": " << seconds.size() << " deliveries, "
        << TurnaroundText(seconds) << "\n";
    }
  }
  t << "  release requests (originator nation -> nation asked for):";
  if (s.releases.empty()) t << " none";
  t << "\n";
  for (const auto& [pair, p] : s.releases) {
    t << "    " << TerminalSafe(pair) << ": " << p.requested << " requested, " << p.approved
      << " approved (" << p.automatic << " by standing authorisation, " << p.sanitised
      << " sanitised), " << p.denied << " denied, request to decision "
      << TurnaroundText(p.turnaround) << "\n";
  }
  counts("release denials (the originator's reason)", s.release_denials);
  t << "  forwards (forwarder nation -> target nation):";
  if (s.forwards.empty()) t << " none";
  t << "\n";
  for (const auto& [pair, f] : s.forwards) {
    t << "    " << TerminalSafe(pair) << ": " << f.forwarded << " forwarded, " << f.refused
      << " refused";
    for (const auto& [reason, n] : f.refused_by_reason)
      t << " " << TerminalSafe(reason) << "=" << n;
    t << "\n";
  }
  t << "  derived portions (originator nation):";
  if (s.provenance.empty()) t << " none";
  t << "\n";
  for (const auto& [nation, p] : s.provenance) {
    t << "    " << TerminalSafe(nation) << ": " << p.derived_portions << " derived, "
      << p.contributors_kept << " contributors kept, " << p.contributors_excluded
      << " excluded, " << p.overrides << " overrides";
    for (const auto& [reason, n] : p.override_reasons)
      t << "; \"" << TerminalSafe(reason) << "\" x" << n;
    t << "\n";
  }
  counts("records by type", s.types);
  return t.str();
}

}  // namespace tearline::tools
