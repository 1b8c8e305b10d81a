// libFuzzer target: the audit log loader and the whole-directory verifier on arbitrary bytes.
//
// The input is written as log.jsonl into a scratch audit directory that also holds the shipped
// policy (as policy.toml), so the record checks (sequence, time, policy digest, delivery
// re-decisions) are reached, then the signed-file checks fail closed (no log.pub).
// Properties checked beyond "no crash": the loader's records are the input's lines, in order,
// byte-exact; a load failure names a line within the input and carries a reason; the verifier
// never reports success without a signed checkpoint, and its failures carry a reason. A record
// that decodes to its typed form encodes back to the values it was decoded from (keys the type
// does not define dropped), and decodes again to the same record. Differential: each line is also
// parsed by nlohmann::json, the reader the loader used before its flat reader (audit_json.h), and
// both must accept the same lines with the same seq, time, type and typed record.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tearline/audit/audit_record_types.h"
#include "tearline/audit/audit_records.h"
#include "tearline/audit/audit_verify.h"

namespace {

// A per-process scratch audit directory, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "tearline-audit-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
    std::error_code ec;
    std::filesystem::copy_file(TEARLINE_DEFAULT_POLICY_FOR_FUZZ, path_ / "policy.toml", ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// True when `encoded` is `original` with only keys dropped (at any depth): decoding ignores
// keys a type does not define and keeps every value it reads unchanged.
bool Covers(const nlohmann::json& original, const nlohmann::json& encoded) {
  if (encoded.is_object()) {
    if (!original.is_object()) return false;
    for (const auto& [key, value] : encoded.items()) {
      auto it = original.find(key);
      if (it == original.end() || !Covers(*it, value)) return false;
    }
    return true;
  }
  if (encoded.is_array()) {
    if (!original.is_array() || original.size() != encoded.size()) return false;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      if (!Covers(original[i], encoded[i])) return false;
    }
    return true;
  }
  return original == encoded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ScratchDir kScratch;
  const std::filesystem::path& kDir = kScratch.path();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::optional<tearline::AuditLoadError> error;
  const auto records = tearline::ParseAuditLog(input, error);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.line != i + 1) std::abort();
    if (input.substr(offset, r.bytes.size()) != r.bytes) std::abort();
    offset += r.bytes.size();
    if (offset >= input.size() || input[offset] != '\n') std::abort();
    ++offset;
    auto decoded = tearline::DecodeAuditRecord(r);
    const nlohmann::json dom = nlohmann::json::parse(r.bytes, nullptr, false);
    if (!dom.is_object() || !dom.contains("seq") || !dom["seq"].is_number_unsigned() ||
        !dom.contains("time") || !dom.contains("type") ||
        dom.at("seq").get<std::uint64_t>() != r.seq || dom.at("time").get<double>() != r.time ||
        dom.at("type").get<std::string>() != r.type) {
      std::abort();
    }
    auto dom_decoded = tearline::DecodeAuditRecord(r.type, dom);
    if (dom_decoded.ok() != decoded.ok()) std::abort();
    if (!decoded.ok()) {
      if (decoded.status().reason().empty()) std::abort();
      if (decoded.status().reason() != dom_decoded.status().reason() ||
          decoded.status().message() != dom_decoded.status().message()) {
        std::abort();
      }
      continue;
    }
    if (*dom_decoded != *decoded) std::abort();
    if (tearline::AuditRecordTypeName(*decoded) != r.type) std::abort();
    const nlohmann::json encoded = tearline::ToJson(*decoded);
    if (!Covers(dom, encoded)) std::abort();
    auto again = tearline::DecodeAuditRecord(r.type, encoded);
    if (!again.ok() || *again != *decoded) std::abort();
  }
  if (error) {
    if (error->line != records.size() + 1 || error->status.reason().empty()) std::abort();
    // A line the flat reader refuses as JSON, the DOM refuses too (and conversely, above).
    if (error->status.reason() == "AUDIT_BAD_JSON") {
      const std::size_t end = input.find('\n', offset);
      if (end != std::string_view::npos &&
          !nlohmann::json::parse(input.substr(offset, end - offset), nullptr, false)
               .is_discarded() &&
          error->status.message() == "not a valid JSON text") {
        std::abort();
      }
    }
  } else if (offset != input.size()) {
    std::abort();
  }
  (void)tearline::BuildAuditTree(records);
  (void)tearline::ParseAuditTime(input.substr(0, 48));

  {
    std::ofstream out(kDir / "log.jsonl", std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  tearline::AuditVerifyOptions options;
  options.dir = kDir;
  const auto result = tearline::VerifyAuditDirectory(options);
  if (result.ok()) {
    if (!records.empty()) std::abort();  // Records without a signed checkpoint never pass.
  } else if (result.failure->reason.empty()) {
    std::abort();
  }
  return 0;
}
