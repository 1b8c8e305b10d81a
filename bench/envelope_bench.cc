// Envelope micro-benchmarks: Seal and Open of one-portion reports (1 KiB and 1 MiB, 1 and 5
// recipients) next to the raw libsodium primitives they are built from, measured in the same
// run. After the usual table a ratio summary compares each envelope operation with
//   - the bare AEAD over the same bytes (what encryption alone costs), and
//   - the sum of the primitives it must perform (AEAD + SHA-256 commitment over the body +
//     Ed25519 sign/verify + one crypto_box_seal per recipient / one seal_open),
// so the overhead of FlatBuffers building, verification and copies is visible as a ratio.
//
// Run: build/bin/envelope_bench [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "tearline/envelope/envelope.h"
#include "tearline/labels/policy.h"

namespace {

using tearline::SecretBytes;

constexpr std::int64_t kCreated = 1'800'000'000;
constexpr std::size_t kHeaderLikeBytes = 300;  // Signed message size of a one-portion report.

struct Keys {
  tearline::Policy policy;
  std::array<std::uint8_t, 32> sign_pk{};
  SecretBytes sign_sk;
  struct Node {
    std::string id, nation;
    std::array<std::uint8_t, 32> pk{};
    SecretBytes sk;
  };
  std::vector<Node> nodes;
};

const Keys& GetKeys() {
  static const Keys* keys = [] {
    if (!tearline::InitCrypto().ok()) std::abort();
    auto policy = tearline::Policy::LoadFile(tearline::DefaultPolicyPath());
    if (!policy.ok()) {
      std::fprintf(stderr, "policy: %s\n", policy.status().ToString().c_str());
      std::abort();
    }
    auto* k = new Keys{std::move(policy).value(), {}, {}, {}};
    k->sign_sk = std::move(SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES)).value();
    crypto_sign_keypair(k->sign_pk.data(), k->sign_sk.data());
    for (const char* nation : {"GBR", "CAN", "AUS", "NZL", "USA"}) {
      Keys::Node n;
      n.id = std::string(nation) + "-node";
      n.nation = nation;
      n.sk = std::move(SecretBytes::Allocate(crypto_box_SECRETKEYBYTES)).value();
      crypto_box_keypair(n.pk.data(), n.sk.data());
      k->nodes.push_back(std::move(n));
    }
    return k;
  }();
  return *keys;
}

tearline::SealInput MakeInput(std::size_t size, std::size_t recipients) {
  const Keys& k = GetKeys();
  tearline::SealInput in;
  in.originator = "USA-origin";
  in.originator_nation = "USA";
  in.created_unix = kCreated;
  in.expires_unix = kCreated + 3600;
  std::vector<std::uint8_t> content(size);
  randombytes_buf(content.data(), content.size());
  in.portions.push_back({"(S//REL TO USA, FVEY)", std::move(content), {}});
  for (std::size_t i = 0; i < recipients; ++i) {
    in.recipients.push_back({k.nodes[i].id, k.nodes[i].nation, 4, k.nodes[i].pk});
  }
  return in;
}

void SetBytes(benchmark::State& state, std::size_t size) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}

void BM_EnvelopeSeal(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto recipients = static_cast<std::size_t>(state.range(1));
  const Keys& k = GetKeys();
  const tearline::SealInput in = MakeInput(size, recipients);
  std::size_t wire = 0;
  for (auto _ : state) {
    auto sealed = tearline::Seal(in, k.sign_sk, k.policy);
    if (!sealed.ok()) state.SkipWithError(sealed.status().ToString().c_str());
    wire = sealed->bytes.size();
    benchmark::DoNotOptimize(sealed->bytes.data());
  }
  SetBytes(state, size);
  state.counters["wire_overhead_B"] = static_cast<double>(wire - size);
}

void BM_EnvelopeOpen(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto recipients = static_cast<std::size_t>(state.range(1));
  const Keys& k = GetKeys();
  auto sealed = tearline::Seal(MakeInput(size, recipients), k.sign_sk, k.policy);
  if (!sealed.ok()) {
    state.SkipWithError(sealed.status().ToString().c_str());
    return;
  }
  // The last recipient's wrap is the last one scanned.
  const Keys::Node& me = k.nodes[recipients - 1];
  tearline::RecipientIdentity id{me.id, me.nation, 4, me.pk, me.sk};
  for (auto _ : state) {
    auto opened = tearline::Open(sealed->bytes, id, k.sign_pk, k.policy, kCreated + 1);
    if (!opened.ok()) state.SkipWithError(opened.status().ToString().c_str());
    benchmark::DoNotOptimize(opened->portions.data());
  }
  SetBytes(state, size);
}

void BM_RawAeadEncrypt(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> m(size), c(size + crypto_aead_xchacha20poly1305_ietf_ABYTES), ad(64);
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  randombytes_buf(m.data(), m.size());
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  for (auto _ : state) {
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(c.data(), &clen, m.data(), m.size(), ad.data(),
                                               ad.size(), nullptr, nonce.data(), key.data());
    benchmark::DoNotOptimize(c.data());
  }
  SetBytes(state, size);
}

void BM_RawAeadDecrypt(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> m(size), c(size + crypto_aead_xchacha20poly1305_ietf_ABYTES), ad(64);
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(c.data(), &clen, m.data(), m.size(), ad.data(),
                                             ad.size(), nullptr, nonce.data(), key.data());
  for (auto _ : state) {
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(m.data(), &mlen, nullptr, c.data(), c.size(),
                                                   ad.data(), ad.size(), nonce.data(),
                                                   key.data()) != 0) {
      state.SkipWithError("decrypt failed");
    }
    benchmark::DoNotOptimize(m.data());
  }
  SetBytes(state, size);
}

void BM_RawSha256(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> m(size);
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> out{};
  for (auto _ : state) {
    crypto_hash_sha256(out.data(), m.data(), m.size());
    benchmark::DoNotOptimize(out.data());
  }
  SetBytes(state, size);
}

void BM_RawSignDetached(benchmark::State& state) {
  const Keys& k = GetKeys();
  std::vector<std::uint8_t> m(kHeaderLikeBytes, 0x5a);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  for (auto _ : state) {
    crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), k.sign_sk.data());
    benchmark::DoNotOptimize(sig.data());
  }
}

void BM_RawVerifyDetached(benchmark::State& state) {
  const Keys& k = GetKeys();
  std::vector<std::uint8_t> m(kHeaderLikeBytes, 0x5a);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), k.sign_sk.data());
  for (auto _ : state) {
    const int rc = crypto_sign_verify_detached(sig.data(), m.data(), m.size(), k.sign_pk.data());
    benchmark::DoNotOptimize(rc);
  }
}

void BM_RawBoxSeal(benchmark::State& state) {
  const Keys& k = GetKeys();
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 32 + crypto_box_SEALBYTES> sealed{};
  for (auto _ : state) {
    crypto_box_seal(sealed.data(), key.data(), key.size(), k.nodes[0].pk.data());
    benchmark::DoNotOptimize(sealed.data());
  }
}

void BM_RawBoxSealOpen(benchmark::State& state) {
  const Keys& k = GetKeys();
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 32 + crypto_box_SEALBYTES> sealed{};
  crypto_box_seal(sealed.data(), key.data(), key.size(), k.nodes[0].pk.data());
  for (auto _ : state) {
    if (crypto_box_seal_open(key.data(), sealed.data(), sealed.size(), k.nodes[0].pk.data(),
                             k.nodes[0].sk.data()) != 0) {
      state.SkipWithError("seal_open failed");
    }
    benchmark::DoNotOptimize(key.data());
  }
}

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * 1024;

BENCHMARK(BM_EnvelopeSeal)
    ->ArgNames({"bytes", "recipients"})
    ->Args({kKiB, 1})
    ->Args({kKiB, 5})
    ->Args({kMiB, 1})
    ->Args({kMiB, 5})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EnvelopeOpen)
    ->ArgNames({"bytes", "recipients"})
    ->Args({kKiB, 1})
    ->Args({kKiB, 5})
    ->Args({kMiB, 1})
    ->Args({kMiB, 5})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawAeadEncrypt)->ArgName("bytes")->Arg(kKiB)->Arg(kMiB)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawAeadDecrypt)->ArgName("bytes")->Arg(kKiB)->Arg(kMiB)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawSha256)->ArgName("bytes")->Arg(kKiB)->Arg(kMiB)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawSignDetached)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawVerifyDetached)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawBoxSeal)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawBoxSealOpen)->Unit(benchmark::kMicrosecond);

// Console output as usual, plus per-iteration CPU time (ns) of every run for the summary. CPU
// time rather than wall time: the ratios should not depend on what else the machine is doing.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      ns_[r.benchmark_name()] =
          r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Returns a negative value when the run is missing (filtered out).
  double Ns(const std::string& name) const {
    auto it = ns_.find(name);
    return it == ns_.end() ? -1.0 : it->second;
  }

 private:
  std::map<std::string, double> ns_;
};

void PrintSummary(const RecordingReporter& rep) {
  const double sign = rep.Ns("BM_RawSignDetached");
  const double verify = rep.Ns("BM_RawVerifyDetached");
  const double seal = rep.Ns("BM_RawBoxSeal");
  const double unseal = rep.Ns("BM_RawBoxSealOpen");
  std::printf("\nRatio summary, CPU time per operation, same run\n");
  std::printf("(model = sum of the primitives the operation performs, see the file comment)\n");
  std::printf("%-28s %12s %12s %10s %12s %10s\n", "operation", "envelope us", "AEAD us", "x AEAD",
              "model us", "x model");
  for (std::int64_t size : {kKiB, kMiB}) {
    const std::string sz = std::to_string(size);
    const double enc = rep.Ns("BM_RawAeadEncrypt/bytes:" + sz);
    const double dec = rep.Ns("BM_RawAeadDecrypt/bytes:" + sz);
    // The commitment hashes the body, which is about as long as the content.
    const double hash = rep.Ns("BM_RawSha256/bytes:" + sz);
    for (int recipients : {1, 5}) {
      const std::string args = "/bytes:" + sz + "/recipients:" + std::to_string(recipients);
      const double s = rep.Ns("BM_EnvelopeSeal" + args);
      const double o = rep.Ns("BM_EnvelopeOpen" + args);
      const double seal_model = enc + hash + sign + recipients * seal;
      const double open_model = dec + hash + verify + unseal;
      const std::string label = (size == kKiB ? "1KiB" : "1MiB") + std::string(" x") +
                                std::to_string(recipients) + " recipient(s)";
      if (s > 0 && enc > 0 && hash > 0 && sign > 0 && seal > 0) {
        std::printf("%-28s %12.1f %12.1f %10.2f %12.1f %10.2f\n", ("seal " + label).c_str(),
                    s / 1e3, enc / 1e3, s / enc, seal_model / 1e3, s / seal_model);
      }
      if (o > 0 && dec > 0 && hash > 0 && verify > 0 && unseal > 0) {
        std::printf("%-28s %12.1f %12.1f %10.2f %12.1f %10.2f\n", ("open " + label).c_str(),
                    o / 1e3, dec / 1e3, o / dec, open_model / 1e3, o / open_model);
      }
    }
  }
  std::printf("primitives: sign %.1f us, verify %.1f us, box_seal %.1f us, box_seal_open %.1f us\n",
              sign / 1e3, verify / 1e3, seal / 1e3, unseal / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary(reporter);
  benchmark::Shutdown();
  return 0;
}
