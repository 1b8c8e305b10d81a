// libFuzzer target: `tearline-audit verify` on a hostile audit directory. The input is a whole
// directory: sections separated by kSeparator become, in order, log.jsonl, log.pub, checkpoint,
// checkpoints/<size> (the size read from the section's second line, as in a checkpoint note),
// policy.toml, cosignatures/<size>.gbr-1, certs/root.cert and certs/gbr-1.cert; a missing
// section leaves its file out. The verifier must return a verdict, never crash, exhaust the
// stack or hang: every parser it runs (JSON records, signed notes, checkpoints, cosignature
// lines, certificates, the TOML policy) sees attacker bytes. A failure must carry a reason, and
// records verify only with a log key and a checkpoint.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/audit/audit_verify.h"

namespace {

constexpr std::string_view kSeparator = "\n--8<--\n";

// A per-process scratch directory, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "tearline-audit-dir-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
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

std::vector<std::string_view> Split(std::string_view input) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = input.find(kSeparator);
    parts.push_back(input.substr(0, at));
    if (at == std::string_view::npos) break;
    input.remove_prefix(at + kSeparator.size());
  }
  return parts;
}

// The decimal on the second line of a checkpoint note ("1" when there is none).
std::string SizeOf(std::string_view note) {
  const std::size_t first = note.find('\n');
  std::string digits;
  for (std::size_t i = first == std::string_view::npos ? note.size() : first + 1;
       i < note.size() && digits.size() < 19 && note[i] >= '0' && note[i] <= '9'; ++i) {
    digits += note[i];
  }
  return digits.empty() ? "1" : digits;
}

void Write(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ScratchDir kScratch;
  const std::filesystem::path dir = kScratch.path() / "audit";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  for (const char* sub : {"checkpoints", "cosignatures", "certs"}) {
    std::filesystem::create_directories(dir / sub, ec);
    if (ec) std::abort();
  }
  const auto parts = Split({reinterpret_cast<const char*>(data), size});
  const auto part = [&](std::size_t i) -> const std::string_view* {
    return i < parts.size() ? &parts[i] : nullptr;
  };
  if (auto* p = part(0)) Write(dir / "log.jsonl", *p);
  if (auto* p = part(1)) Write(dir / "log.pub", *p);
  if (auto* p = part(2)) Write(dir / "checkpoint", *p);
  if (auto* p = part(3)) Write(dir / "checkpoints" / SizeOf(*p), *p);
  if (auto* p = part(4)) Write(dir / "policy.toml", *p);
  if (auto* p = part(5))
    Write(dir / "cosignatures" / (SizeOf(part(3) ? *part(3) : "") + ".gbr-1"), *p);
  if (auto* p = part(6)) Write(dir / "certs" / "root.cert", *p);
  if (auto* p = part(7)) Write(dir / "certs" / "gbr-1.cert", *p);

  tearline::AuditVerifyOptions options;
  options.dir = dir;
  const auto result = tearline::VerifyAuditDirectory(options);
  if (result.ok()) {
    // Records never verify without a log key and a signed checkpoint.
    if (result.records > 0 && (!part(1) || !part(2))) std::abort();
  } else if (result.failure->reason.empty()) {
    std::abort();
  }
  return 0;
}
