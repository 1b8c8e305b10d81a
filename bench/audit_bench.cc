// Audit log benchmarks, each next to a baseline measured in the same run.
//
// (a) Append throughput of realistic records (a `delivered` record of a four-portion report,
//     about 400 bytes per line; the exact mean size is the record_B counter) on the real
//     filesystem:
//       BM_AppendDurable           Append(): one fdatasync per record;
//       BM_AppendGroupCommit/N     N x AppendBuffered() then one Sync(), N = 8, 64, 256.
//     Wall-clock time (the cost is waiting for the disk). items/s = records/s; bytes/s counts the
//     line bytes including '\n'. The summary prints records/s of each and group / per-record.
//     The directory is $TEARLINE_BENCH_DIR if set, else the system temp directory; the label
//     shows its filesystem type, because on tmpfs fdatasync costs nothing and the ratio means
//     nothing.
//
// (b) Verify throughput: an audit directory of 20,000 records (a broker_start, a policy_loaded,
//     then reports: accepted, delivered, denied, ... with labels the coalition policy releases),
//     written through AuditLog with a real Ed25519 signer and a checkpoint every 500 records
//     (40 signed checkpoints), then
//       BM_VerifyAuditDirectory    VerifyAuditDirectory() on it (reads the files each time);
//       BM_RawSha256Tree           the baseline: raw libsodium SHA-256 over the same log.jsonl
//                                  bytes, already in memory, as the tree needs it: one leaf hash
//                                  SHA-256(0x00 || line) per line plus the n - 1 interior hashes
//                                  SHA-256(0x01 || l || r) of one root (RFC 9162). No file I/O,
//                                  no JSON, no signatures, no policy: the irreducible hashing.
//     Both report bytes/s over the same byte count (the size of log.jsonl), in CPU time, so the
//     summary's verify / raw ratio is the cost of everything verification does beyond hashing
//     (parsing, per-delivery policy decisions, 40 checkpoint signatures and roots, consistency
//     proofs).
//
// Run: build/bin/audit_bench [--benchmark_min_time=0.3]
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "baselines.h"
#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_records.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/labels/policy.h"

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kVerifyRecords = 20'000;
constexpr std::uint64_t kCheckpointEvery = 500;
constexpr const char* kOrigin = "tearline/audit/bench-broker";

void Die(const std::string& what) {
  std::fprintf(stderr, "audit_bench: %s\n", what.c_str());
  std::abort();
}

fs::path BenchBaseDir() {
  const char* env = std::getenv("TEARLINE_BENCH_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
}

// A fresh directory, removed recursively on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (BenchBaseDir() / "tearline-audit-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp " + tmpl + " failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReportId(std::uint64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(n));
  return buf;
}

std::string HexOf(std::uint64_t n) {
  std::string s = ReportId(n);
  return s + s;  // 64 hex digits, like a ciphertext SHA-256.
}

nlohmann::json AcceptedFields(std::uint64_t n, const std::string& policy_sha256) {
  return {{"report_id", ReportId(n)},
          {"originator", "usa-1"},
          {"originator_nation", "USA"},
          {"intended_nations", {"GBR", "AUS"}},
          {"created", 1'764'400'000 + static_cast<std::int64_t>(n)},
          {"expires", 1'764'486'400 + static_cast<std::int64_t>(n)},
          {"report_bytes", 2'048},
          {"portions",
           {{{"index", 0},
             {"label", "(S//REL TO USA, GBR)"},
             {"ciphertext_sha256", HexOf(2 * n)},
             {"ciphertext_bytes", 900}},
            {{"index", 1},
             {"label", "(S//NF)"},
             {"ciphertext_sha256", HexOf(2 * n + 1)},
             {"ciphertext_bytes", 600}}}},
          {"policy_sha256", policy_sha256}};
}

nlohmann::json DeliveredFields(std::uint64_t n) {
  return {{"report_id", ReportId(n)},
          {"originator", "usa-1"},
          {"originator_nation", "USA"},
          {"recipient", "gbr-1"},
          {"nation", "GBR"},
          {"clearance", "SECRET"},
          {"portions", {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}}}};
}

// About 400 bytes once seq, time and type are added.
nlohmann::json AppendBenchFields() {
  return {{"report_id", ReportId(1)},
          {"originator", "usa-1"},
          {"originator_nation", "USA"},
          {"recipient", "gbr-1"},
          {"nation", "GBR"},
          {"clearance", "SECRET"},
          {"portions",
           {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}},
            {{"index", 1}, {"label", "(S//REL TO USA, FVEY)"}},
            {{"index", 2}, {"label", "(C//REL TO USA, GBR, AUS)"}},
            {{"index", 3}, {"label", "(S//REL TO USA, GBR, AUS)"}}}}};
}

nlohmann::json DeniedFields(std::uint64_t n, const char* recipient, const char* nation) {
  return {{"report_id", ReportId(n)},
          {"originator", "usa-1"},
          {"recipient", recipient},
          {"nation", nation},
          {"portion", 1},
          {"label", "(S//NF)"},
          {"reason", "NOFORN"},
          {"explanation", "NOFORN material is not released to other nations"}};
}

// ----- (a) append ------------------------------------------------------------------------------

// group == 0: Append() per record; else `group` AppendBuffered() then one Sync() per iteration.
void RunAppend(benchmark::State& state, std::uint64_t group) {
  ScratchDir dir;
  auto log = tearline::AuditLog::Open(dir.path() / "audit");
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return;
  }
  const nlohmann::json fields = AppendBenchFields();
  for (auto _ : state) {
    tearline::Status s;
    if (group == 0) {
      s = (*log)->Append("delivered", fields).status();
    } else {
      for (std::uint64_t i = 0; i < group && s.ok(); ++i) {
        s = (*log)->AppendBuffered("delivered", fields).status();
      }
      if (s.ok()) s = (*log)->Sync();
    }
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  const std::uint64_t records = (*log)->size();
  const std::uint64_t bytes = std::filesystem::file_size((*log)->path());
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["record_B"] =
      records > 0 ? static_cast<double>(bytes) / static_cast<double>(records) : 0.0;
  state.SetLabel(::tearline::bench::FilesystemType(dir.path()));
}

void BM_AppendDurable(benchmark::State& state) { RunAppend(state, 0); }
BENCHMARK(BM_AppendDurable)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_AppendGroupCommit(benchmark::State& state) {
  RunAppend(state, static_cast<std::uint64_t>(state.range(0)));
}
BENCHMARK(BM_AppendGroupCommit)
    ->ArgName("N")
    ->Arg(8)
    ->Arg(64)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ----- (b) verify ------------------------------------------------------------------------------

// The audit directory verified by (b), built once and removed by main() at exit.
struct VerifyFixture {
  ScratchDir scratch;
  fs::path dir;
  std::string log_bytes;  // log.jsonl as written.
  std::uint64_t records = 0;
};

VerifyFixture* g_fixture = nullptr;

const VerifyFixture& GetVerifyFixture() {
  if (g_fixture != nullptr) return *g_fixture;
  if (!tearline::InitCrypto().ok()) Die("InitCrypto");
  auto* f = new VerifyFixture();
  g_fixture = f;
  f->dir = f->scratch.path() / "audit";
  auto key = tearline::GenerateSigningKeyPair();
  if (!key.ok()) Die(key.status().ToString());

  std::ifstream policy_in(tearline::DefaultPolicyPath(), std::ios::binary);
  std::stringstream policy_text;
  policy_text << policy_in.rdbuf();
  if (!policy_in) Die("cannot read policy " + tearline::DefaultPolicyPath());
  const std::string policy_sha = tearline::Sha256Hex(policy_text.str());
  auto policy = tearline::Policy::LoadFile(tearline::DefaultPolicyPath());
  if (!policy.ok()) Die(policy.status().ToString());

  {
    auto opened = tearline::AuditLog::Open(f->dir, kOrigin, &*key);
    if (!opened.ok()) Die(opened.status().ToString());
    tearline::AuditLog& log = **opened;
    fs::create_directories(f->dir / "certs");  // No witnesses: no cosignatures to check.
    std::ofstream(f->dir / "policy.toml", std::ios::binary) << policy_text.str();
    auto add = [&](std::string_view type, nlohmann::json fields) {
      auto seq = log.AppendBuffered(type, std::move(fields));
      if (!seq.ok()) Die(seq.status().ToString());
      if (log.size() % kCheckpointEvery == 0) {
        auto cp = log.Checkpoint();
        if (!cp.ok()) Die(cp.status().ToString());
      }
    };
    add("broker_start", {{"broker", "bench-broker"}, {"nodes", 3}, {"torn_tail_bytes", 0}});
    add("policy_loaded", {{"policy", policy->name()},
                          {"policy_version", policy->version()},
                          {"policy_sha256", policy_sha}});
    // Per report: accepted, delivered to GBR, the NOFORN portion denied to GBR and AUS, and
    // every fourth report an acknowledgement.
    for (std::uint64_t n = 0; log.size() < kVerifyRecords; ++n) {
      add("accepted", AcceptedFields(n, policy_sha));
      if (log.size() < kVerifyRecords) add("delivered", DeliveredFields(n));
      if (log.size() < kVerifyRecords) add("denied", DeniedFields(n, "gbr-1", "GBR"));
      if (log.size() < kVerifyRecords) add("denied", DeniedFields(n, "aus-1", "AUS"));
      if (n % 4 == 0 && log.size() < kVerifyRecords) {
        add("acknowledged",
            {{"report_id", ReportId(n)}, {"recipient", "gbr-1"}, {"signature", HexOf(n)}});
      }
    }
    auto cp = log.Checkpoint();
    if (!cp.ok()) Die(cp.status().ToString());
    f->records = log.size();
  }
  std::ifstream in(f->dir / "log.jsonl", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  f->log_bytes = ss.str();

  // A benchmark of a verification that fails would measure the wrong thing.
  tearline::AuditVerifyOptions options;
  options.dir = f->dir;
  const tearline::AuditVerifyResult r = tearline::VerifyAuditDirectory(options);
  if (!r.ok()) Die("the benchmark directory does not verify: " + r.failure->ToString());
  if (r.records != f->records || r.deliveries_checked == 0) Die("unexpected verify result");
  return *f;
}

void BM_VerifyAuditDirectory(benchmark::State& state) {
  const VerifyFixture& f = GetVerifyFixture();
  tearline::AuditVerifyOptions options;
  options.dir = f.dir;
  std::uint64_t deliveries = 0;
  for (auto _ : state) {
    tearline::AuditVerifyResult r = tearline::VerifyAuditDirectory(options);
    if (!r.ok()) {
      state.SkipWithError(r.failure->ToString().c_str());
      return;
    }
    deliveries = r.deliveries_checked;
    benchmark::DoNotOptimize(r.latest);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(f.log_bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(f.records));
  state.counters["records"] = static_cast<double>(f.records);
  state.counters["deliveries"] = static_cast<double>(deliveries);
}
BENCHMARK(BM_VerifyAuditDirectory)->Unit(benchmark::kMillisecond);

// Root of the RFC 9162 tree over the lines of `text`, with nothing but crypto_hash_sha256.
std::array<std::uint8_t, 32> RawTreeRoot(const std::string& text) {
  std::vector<std::array<std::uint8_t, 32>> stack;  // Complete subtrees, largest first.
  std::uint64_t index = 0;
  std::size_t start = 0;
  const std::uint8_t leaf_prefix = 0x00;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::array<std::uint8_t, 32> h{};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &leaf_prefix, 1);
    crypto_hash_sha256_update(&st, reinterpret_cast<const std::uint8_t*>(text.data() + start),
                              nl - start);
    crypto_hash_sha256_final(&st, h.data());
    // Merge equal-height subtrees: one interior hash per carry, n - 1 in total.
    for (std::uint64_t i = index; (i & 1) != 0; i >>= 1) {
      std::uint8_t buf[65];
      buf[0] = 0x01;
      std::memcpy(buf + 1, stack.back().data(), 32);
      std::memcpy(buf + 33, h.data(), 32);
      crypto_hash_sha256(h.data(), buf, sizeof buf);
      stack.pop_back();
    }
    stack.push_back(h);
    ++index;
    start = nl + 1;
  }
  if (stack.empty()) {
    std::array<std::uint8_t, 32> empty{};
    crypto_hash_sha256(empty.data(), nullptr, 0);
    return empty;
  }
  // Fold the ragged right edge, smallest subtree first.
  std::array<std::uint8_t, 32> root = stack.back();
  for (std::size_t i = stack.size() - 1; i-- > 0;) {
    std::uint8_t buf[65];
    buf[0] = 0x01;
    std::memcpy(buf + 1, stack[i].data(), 32);
    std::memcpy(buf + 33, root.data(), 32);
    crypto_hash_sha256(root.data(), buf, sizeof buf);
  }
  return root;
}

void BM_RawSha256Tree(benchmark::State& state) {
  const VerifyFixture& f = GetVerifyFixture();
  for (auto _ : state) {
    auto root = RawTreeRoot(f.log_bytes);
    benchmark::DoNotOptimize(root.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(f.log_bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(f.records));
}
BENCHMARK(BM_RawSha256Tree)->Unit(benchmark::kMillisecond);

// ----- summary ---------------------------------------------------------------------------------

// Console output as usual, plus the rates of every run for the ratio summary.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      Rates& x = rates_[r.benchmark_name()];
      if (auto it = r.counters.find("items_per_second"); it != r.counters.end()) {
        x.items = it->second.value;
      }
      if (auto it = r.counters.find("bytes_per_second"); it != r.counters.end()) {
        x.bytes = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  struct Rates {
    double items = -1.0;
    double bytes = -1.0;
  };
  // Negative rates when the run is missing (filtered out or failed).
  Rates Get(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? Rates{} : it->second;
  }

 private:
  std::map<std::string, Rates> rates_;
};

void PrintSummary(const RecordingReporter& rep) {
  std::printf("\nRatio summary, same run\n");
  const auto durable = rep.Get("BM_AppendDurable/real_time");
  if (durable.items > 0) {
    std::printf("(a) append, wall time, %s\n", BenchBaseDir().string().c_str());
    std::printf("    %-28s %12.0f records/s %10.2f MB/s %10s\n", "per-record fdatasync",
                durable.items, durable.bytes / 1e6, "1.00x");
    for (int n : {8, 64, 256}) {
      const auto g = rep.Get("BM_AppendGroupCommit/N:" + std::to_string(n) + "/real_time");
      if (g.items <= 0) continue;
      const std::string label = "group commit N=" + std::to_string(n);
      std::printf("    %-28s %12.0f records/s %10.2f MB/s %9.2fx\n", label.c_str(), g.items,
                  g.bytes / 1e6, g.items / durable.items);
    }
  }
  const auto verify = rep.Get("BM_VerifyAuditDirectory");
  const auto raw = rep.Get("BM_RawSha256Tree");
  if (verify.bytes > 0 && raw.bytes > 0) {
    std::printf("(b) verify, CPU time, %llu records, same log.jsonl bytes\n",
                static_cast<unsigned long long>(g_fixture != nullptr ? g_fixture->records : 0));
    std::printf("    %-28s %10.2f MB/s %12.0f records/s\n", "VerifyAuditDirectory",
                verify.bytes / 1e6, verify.items);
    std::printf("    %-28s %10.2f MB/s %12.0f records/s\n", "raw SHA-256 (leaves+nodes)",
                raw.bytes / 1e6, raw.items);
    std::printf("    verify / raw SHA-256: %.2fx the time (verify runs at %.1f%% of raw hashing)\n",
                raw.bytes / verify.bytes, 100.0 * verify.bytes / raw.bytes);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary(reporter);
  benchmark::Shutdown();
  delete g_fixture;  // Removes the verify directory.
  return 0;
}
