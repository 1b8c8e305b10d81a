#include "tearline/tools/audit_command.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>

#include "tearline/base/encoding.h"
#include "tearline/base/safe_text.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/tools/cli_common.h"

namespace tearline::tools {
namespace {

constexpr std::string_view kProgram = "tearline-audit";

std::string B64(const Hash& h) { return Base64Encode(std::span<const std::uint8_t>(h)); }

// Prints a malformed-log error naming the line; exit 1 (the input, not the invocation, is bad).
int LoadFailed(std::ostream& out, const AuditLoadError& e) {
  if (e.line != 0) {
    out << "FAIL line " << e.line << ": " << TerminalSafe(e.status.ToString()) << "\n";
  } else {
    out << "FAIL: " << TerminalSafe(e.status.ToString()) << "\n";
  }
  return kExitNegative;
}

int Usage(std::ostream& err, const std::string& message) {
  return cli::Fail(err, kProgram, InvalidArgument("USAGE", message + " (see --help)"));
}

bool IsReportId(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ----- verify ----------------------------------------------------------------------------------

// What a PASS rests on, when it is less than a root the auditor holds and witnesses: printed
// after the verdict line, one note per line.
void TrustNotes(const AuditVerifyResult& r, std::ostream& out) {
  if (!r.root_pinned) {
    out << "note: the coalition root was read from the audit directory itself, so the broker "
           "vouches for its own witnesses; pass --ca CADIR with the root you hold\n";
  }
  if (r.unwitnessed()) {
    out << "note: no witness cosigned and no trusted checkpoint matched: the history rests on "
           "the broker's signature alone (bring --trusted-checkpoint FILE, or require "
           "--min-witnesses N)\n";
  } else if (r.latest && r.witnessed_size < r.latest->tree_size && r.trusted_checkpoints == 0) {
    out << "note: witnesses cosigned up to size " << r.witnessed_size
        << "; records after it rest on the broker's signature alone\n";
  }
}

int Verify(const AuditVerifyOptions& options, std::ostream& out) {
  AuditVerifyResult r = VerifyAuditDirectory(options);
  if (!r.ok()) {
    out << "FAIL " << TerminalSafe(r.failure->ToString()) << "\n";
    return kExitNegative;
  }
  out << AuditVerdict(r) << ": " << r.records << " records; " << r.checkpoints << " checkpoints";
  if (r.latest) {
    out << " (latest: size " << r.latest->tree_size << ", root " << B64(r.latest->root_hash) << ")";
  }
  out << "; " << r.cosignatures << " cosignatures";
  if (!r.witnesses.empty()) {
    out << " by";
    for (const auto& w : r.witnesses) out << " " << TerminalSafe(w);
  }
  out << "; " << r.trusted_checkpoints << " trusted checkpoints; " << r.deliveries_checked
      << " deliveries (" << r.portions_checked << " portions) allowed by policy "
      << TerminalSafe(r.policy_name.empty() ? "(none logged)"
                                            : r.policy_name + " " + r.policy_version);
  if (!r.broker.empty()) out << "; log key certified for broker " << r.broker;
  if (r.latest && r.latest->tree_size < r.records) {
    out << "; " << (r.records - r.latest->tree_size)
        << " newest records not yet covered by a checkpoint";
  }
  out << "\n";
  TrustNotes(r, out);
  return kExitOk;
}

// ----- query -----------------------------------------------------------------------------------

struct QueryFilter {
  std::string nation;
  std::string report;
  std::string decision;
  std::optional<double> since;
  std::optional<double> until;
};

// Equal when present; an absent key never matches.
bool Is(const std::optional<std::string_view>& value, std::string_view wanted) {
  return value.has_value() && *value == wanted;
}

// Filters on record fields see the typed record; a record that does not decode (a malformed
// record, or a type this version does not know) has no such fields and matches only filters on
// its type and time.
bool Matches(const AuditRecord& r, const AuditRecordKeys& keys, const QueryFilter& f) {
  if (!f.decision.empty() && r.type != f.decision) return false;
  if (!f.report.empty() && !Is(keys.report_id, f.report)) return false;
  if (!f.nation.empty() && !Is(keys.originator_nation, f.nation) && !Is(keys.nation, f.nation)) {
    return false;
  }
  if (f.since && r.time < *f.since) return false;
  if (f.until && r.time > *f.until) return false;
  return true;
}

std::string Labels(const AuditRecordKeys& keys) {
  std::string s;
  for (std::string_view label : keys.labels) {
    if (!s.empty()) s += "; ";
    s += label;
  }
  return s;
}

// `key=value` of the text listing: the value escaped, and quoted when it holds a space, '"' or
// '=', so that neither a line nor a field can be faked by a record's text.
std::string Field(const std::string& key, const std::string& value) {
  std::string v = TerminalSafe(value);
  if (v.empty() || v.find_first_of(" \"=") != std::string::npos) {
    std::string q = "\"";
    for (char c : v) {
      if (c == '"') q += '\\';
      q += c;
    }
    v = q + "\"";
  }
  return TerminalSafe(key) + "=" + v;
}

std::string Text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

int Query(const std::filesystem::path& dir, const QueryFilter& filter, bool json, bool csv,
          std::ostream& out) {
  std::optional<AuditLoadError> error;
  auto records = LoadAuditLog(dir, error);
  if (error) return LoadFailed(out, *error);
  if (csv) {
    out << "line,seq,time,time_utc,type,report_id,originator,originator_nation,recipient,"
           "nation,reason,labels\n";
  }
  for (const AuditRecord& r : records) {
    const auto decoded = DecodeAuditRecord(r);
    const AuditRecordKeys keys = decoded.ok() ? KeysOf(*decoded) : AuditRecordKeys{};  // Views.
    if (!Matches(r, keys, filter)) continue;
    // The listing shows every field the DOM way (sorted keys, values re-serialised); the loader
    // already checked that the line is a JSON object, so this parse cannot fail.
    const nlohmann::json object =
        json ? nlohmann::json() : nlohmann::json::parse(r.bytes, nullptr, false);
    if (json) {
      out << JsonLineSafe(r.bytes) << "\n";
    } else if (csv) {
      // seq and time are numbers (the loader checked), the rest is record text.
      out << r.line << "," << CsvCell(Text(object, "seq")) << "," << CsvCell(Text(object, "time"))
          << "," << FormatAuditTime(r.time) << "," << CsvCell(r.type);
      for (const auto* column : {&keys.report_id, &keys.originator, &keys.originator_nation,
                                 &keys.recipient, &keys.nation, &keys.reason}) {
        out << "," << CsvCell(std::string(column->value_or("")));
      }
      out << "," << CsvCell(Labels(keys)) << "\n";
    } else {
      out << "line " << r.line << "  " << FormatAuditTime(r.time) << "  " << TerminalSafe(r.type);
      for (auto& [k, v] : object.items()) {
        if (k == "seq" || k == "time" || k == "type") continue;
        out << "  "
            << Field(k, v.is_string()
                            ? v.get<std::string>()
                            : v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
      }
      out << "\n";
    }
  }
  return kExitOk;
}

// ----- custody ---------------------------------------------------------------------------------

int Custody(const std::filesystem::path& dir, const std::string& report_id, std::ostream& out,
            std::ostream& err) {
  if (!IsReportId(report_id)) {
    return Usage(err, "REPORT_ID must be 32 lower-case hex digits");
  }
  std::optional<AuditLoadError> error;
  auto records = LoadAuditLog(dir, error);
  if (error) return LoadFailed(out, *error);
  auto key = LoadAuditLogKey(dir);
  if (!key.ok()) {
    out << "FAIL log.pub: " << TerminalSafe(key.status().ToString()) << "\n";
    return kExitNegative;
  }
  auto checkpoint = LoadLatestAuditCheckpoint(dir, *key);
  if (!checkpoint.ok()) {
    out << "FAIL checkpoint: " << TerminalSafe(checkpoint.status().ToString()) << "\n";
    return kExitNegative;
  }
  const MerkleTree tree = BuildAuditTree(records);
  const std::uint64_t size = checkpoint->tree_size;
  out << "report " << report_id << "\n"
      << "checkpoint size " << size << " root " << B64(checkpoint->root_hash) << " (signature by "
      << TerminalSafe(key->name) << " verified)\n";
  bool found = false;
  bool all_ok = true;
  bool malformed = false;
  for (const AuditRecord& r : records) {
    auto decoded = DecodeAuditRecord(r);
    if (!decoded.ok()) {
      // A known type that does not decode may concern the report; the chain cannot be
      // vouched for without looking at it.
      if (decoded.status().reason() == "AUDIT_RECORD_UNKNOWN_TYPE") continue;
      out << "\nline " << r.line << "  " << FormatAuditTime(r.time) << "  " << TerminalSafe(r.type)
          << "\n  malformed: " << TerminalSafe(decoded.status().ToString()) << "\n";
      malformed = true;
      continue;
    }
    if (!Is(KeysOf(*decoded).report_id, report_id)) continue;
    found = true;
    const std::uint64_t index = r.line - 1;
    const Hash leaf = *tree.LeafAt(index);
    out << "\nline " << r.line << "  " << FormatAuditTime(r.time) << "  " << TerminalSafe(r.type)
        << "\n"
        << "  record " << JsonLineSafe(r.bytes) << "\n"
        << "  leaf_index " << index << "\n"
        << "  leaf_hash " << B64(leaf) << "\n";
    if (index >= size) {
      out << "  inclusion: NOT YET COVERED (after the latest checkpoint)\n";
      continue;
    }
    auto proof = tree.InclusionProof(index, size);
    if (!proof.ok()) {
      out << "  inclusion: FAILED: " << proof.status().ToString() << "\n";
      all_ok = false;
      continue;
    }
    out << "  proof_hashes " << proof->size() << "\n";
    for (const Hash& h : *proof) out << "    " << B64(h) << "\n";
    Status st = VerifyInclusion(leaf, index, size, *proof, checkpoint->root_hash);
    if (st.ok()) {
      out << "  inclusion: verified against checkpoint " << size << "\n";
    } else {
      out << "  inclusion: FAILED: " << st.ToString() << "\n";
      all_ok = false;
    }
  }
  if (!found) {
    out << "no record mentions report " << report_id << "\n";
    return kExitNegative;
  }
  if (malformed) {
    out << "FAIL: the log holds malformed records; run `tearline-audit verify`\n";
    return kExitNegative;
  }
  if (!all_ok) {
    out << "FAIL: the log does not match its signed checkpoint; run `tearline-audit verify`\n";
    return kExitNegative;
  }
  return kExitOk;
}

// ----- prove -----------------------------------------------------------------------------------

int Prove(const std::filesystem::path& dir, std::optional<std::uint64_t> leaf,
          std::optional<std::uint64_t> size_opt, const std::vector<std::uint64_t>& consistency,
          std::ostream& out, std::ostream& err) {
  if (leaf.has_value() == (consistency.size() == 2)) {
    return Usage(err, "prove needs exactly one of --leaf N or --consistency OLD NEW");
  }
  std::optional<AuditLoadError> error;
  auto records = LoadAuditLog(dir, error);
  if (error) return LoadFailed(out, *error);
  const MerkleTree tree = BuildAuditTree(records);
  std::optional<Checkpoint> checkpoint;
  if (auto key = LoadAuditLogKey(dir); key.ok()) {
    if (auto cp = LoadLatestAuditCheckpoint(dir, *key); cp.ok()) checkpoint = *cp;
  }
  if (leaf) {
    const std::uint64_t size =
        size_opt ? *size_opt : (checkpoint ? checkpoint->tree_size : tree.size());
    if (*leaf >= size || size > tree.size()) {
      return Usage(err, "need leaf < size <= " + std::to_string(tree.size()) + " (the log size)");
    }
    auto proof = tree.InclusionProof(*leaf, size);
    const Hash root = *tree.RootAt(size);
    const Hash leaf_hash = *tree.LeafAt(*leaf);
    out << "leaf_index " << *leaf << "\n"
        << "tree_size " << size << "\n"
        << "leaf_hash " << B64(leaf_hash) << "\n"
        << "root " << B64(root) << "\n";
    if (checkpoint && checkpoint->tree_size == size) {
      out << "signed_checkpoint " << (checkpoint->root_hash == root ? "matches" : "DIFFERS")
          << "\n";
    }
    out << "proof_hashes " << proof->size() << "\n";
    for (const Hash& h : *proof) out << B64(h) << "\n";
    Status st = VerifyInclusion(leaf_hash, *leaf, size, *proof, root);
    if (!st.ok() ||
        (checkpoint && checkpoint->tree_size == size && checkpoint->root_hash != root)) {
      err << "tearline-audit: proof does not verify against the signed checkpoint\n";
      return kExitNegative;
    }
    return kExitOk;
  }
  const std::uint64_t old_size = consistency[0], new_size = consistency[1];
  if (old_size > new_size || new_size > tree.size()) {
    return Usage(err, "need OLD <= NEW <= " + std::to_string(tree.size()) + " (the log size)");
  }
  auto proof = tree.ConsistencyProof(old_size, new_size);
  const Hash old_root = *tree.RootAt(old_size), new_root = *tree.RootAt(new_size);
  out << "old_size " << old_size << "\n"
      << "new_size " << new_size << "\n"
      << "old_root " << B64(old_root) << "\n"
      << "new_root " << B64(new_root) << "\n"
      << "proof_hashes " << proof->size() << "\n";
  for (const Hash& h : *proof) out << B64(h) << "\n";
  if (old_size > 0) {
    Status st = VerifyConsistency(old_size, new_size, old_root, new_root, *proof);
    if (!st.ok()) {
      err << "tearline-audit: consistency proof does not verify: " << st.ToString() << "\n";
      return kExitNegative;
    }
  }
  return kExitOk;
}

// ----- report ----------------------------------------------------------------------------------

int Report(const AuditVerifyOptions& options, const std::string& html_path, bool text,
           std::ostream& out, std::ostream& err) {
  std::optional<AuditLoadError> error;
  auto records = LoadAuditLog(options.dir, error);
  if (error && error->line == 0) return LoadFailed(out, *error);
  // A malformed line still yields a report (of the records before it) with a FAIL verdict.
  AuditVerifyResult verification = VerifyAuditDirectory(options);
  if (!html_path.empty()) {
    const std::string html = RenderAuditReportHtml(options, records, verification);
    std::ofstream file(html_path, std::ios::binary | std::ios::trunc);
    file << html;
    file.close();
    if (!file) {
      PrintError(err, kProgram, "cannot write " + html_path);
      return kExitInvalid;
    }
    out << "wrote " << html_path << ": verification "
        << (verification.ok() ? AuditVerdict(verification)
                              : "FAIL " + TerminalSafe(verification.failure->ToString()))
        << "\n";
  }
  if (text) out << RenderAuditReportText(options, records, verification);
  return verification.ok() ? kExitOk : kExitNegative;
}

}  // namespace

int RunAuditCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Verify, query and report on a Tearline broker's audit directory",
               std::string(kProgram)};
  app.require_subcommand(1);
  std::string dir;
  std::string ca_dir;
  std::vector<std::string> trusted;
  std::uint64_t min_witnesses = 0;

  auto* verify = app.add_subcommand("verify", "Verify the whole audit directory");
  auto* query = app.add_subcommand("query", "List records matching filters");
  auto* custody = app.add_subcommand("custody", "One report's chain of custody, with proofs");
  auto* prove = app.add_subcommand("prove", "Print inclusion or consistency proofs");
  auto* report = app.add_subcommand("report", "Summarise the log for auditors (HTML and/or text)");
  for (auto* sub : {verify, query, custody, prove, report}) {
    sub->add_option("DIR", dir, "Audit directory")->required();
  }
  for (auto* sub : {verify, report}) {
    sub->add_option("--trusted-checkpoint", trusted,
                    "A signed checkpoint obtained independently (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--ca", ca_dir, "CA directory whose root.cert pins the coalition root");
    sub->add_option("--min-witnesses", min_witnesses,
                    "Fail unless at least N distinct witnesses certified under --ca cosigned");
  }

  QueryFilter filter;
  std::string since, until;
  bool json = false, csv = false;
  query->add_option("--nation", filter.nation, "originator_nation or nation equals N");
  query->add_option("--report", filter.report, "report_id equals ID");
  query->add_option("--decision", filter.decision,
                    "record type: accepted, delivered, queued, denied, ...");
  query->add_option("--since", since, "not before T (unix seconds or ISO-8601 UTC)");
  query->add_option("--until", until, "not after T (unix seconds or ISO-8601 UTC)");
  auto* json_flag = query->add_flag("--json", json, "Print the exact JSON lines");
  auto* csv_flag = query->add_flag("--csv", csv, "Print CSV with a header row");
  json_flag->excludes(csv_flag);

  std::string report_id;
  custody->add_option("REPORT_ID", report_id, "Report id (32 hex digits)")->required();

  std::optional<std::uint64_t> leaf, size;
  std::vector<std::uint64_t> consistency;
  prove->add_option("--leaf", leaf, "Inclusion proof of leaf N (0-based = line - 1)");
  prove->add_option("--size", size, "Tree size for --leaf (default: latest checkpoint)");
  prove->add_option("--consistency", consistency, "Consistency proof from OLD to NEW size")
      ->expected(2);

  std::string html;
  bool text = false;
  report->add_option("--html", html, "Write a self-contained HTML page to FILE");
  report->add_flag("--text", text, "Print the summary as text");

  if (auto exit_code = ParseCommandLine(app, argc, argv, out, err)) return *exit_code;

  AuditVerifyOptions options;
  options.dir = dir;
  for (const auto& t : trusted) options.trusted_checkpoints.emplace_back(t);
  options.min_witnesses = min_witnesses;
  if (min_witnesses > 0 && ca_dir.empty()) {
    // Witnesses certified by a root taken from the directory are the broker's own say-so.
    return Usage(err, "--min-witnesses needs --ca: witnesses count only under a root you hold");
  }
  if (!ca_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::path(ca_dir) / "root.cert", ec)) {
      return Usage(err, "--ca " + ca_dir + ": no root.cert there");
    }
    options.ca_dir = ca_dir;
  }
  for (const auto& t : trusted) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(t, ec)) {
      return Usage(err, "--trusted-checkpoint " + t + ": no such file");
    }
  }

  if (verify->parsed()) return Verify(options, out);
  if (query->parsed()) {
    if (!since.empty()) {
      auto t = ParseAuditTime(since);
      if (!t.ok()) return Usage(err, "--since: " + t.status().message());
      filter.since = *t;
    }
    if (!until.empty()) {
      auto t = ParseAuditTime(until);
      if (!t.ok()) return Usage(err, "--until: " + t.status().message());
      filter.until = *t;
    }
    return Query(dir, filter, json, csv, out);
  }
  if (custody->parsed()) return Custody(dir, report_id, out, err);
  if (prove->parsed()) return Prove(dir, leaf, size, consistency, out, err);
  if (report->parsed()) {
    if (html.empty() && !text) return Usage(err, "report needs --html FILE, --text or both");
    return Report(options, html, text, out, err);
  }
  return Usage(err, "unknown subcommand");
}

}  // namespace tearline::tools
