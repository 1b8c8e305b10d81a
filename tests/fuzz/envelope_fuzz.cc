// libFuzzer target: report envelope decoding (PeekOriginator, InspectReport, SelectPortions,
// Open) on hostile bytes, and the same bytes read as a Forward (InspectForward,
// SelectForwardPortions, OpenForward), as the broker and a recipient read one.
//
// Keys are derived from fixed seeds in a static initialiser, and one reference report is sealed
// with them, so runs are reproducible and a saved crash input replays. Two input modes:
//   first byte even: the rest is the report, as a broker or node would receive it;
//   first byte odd:  the rest is a list of (offset_hi, offset_lo, xor) triples applied to the
//                    reference report, which lets the fuzzer reach past the signature check.
// Property checked beyond "no crash": every failure carries an ENVELOPE_ reason, and any report
// that opens yields exactly the reference originator, labels and content.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tearline/envelope/envelope.h"
#include "tearline/envelope/forward.h"
#include "tearline/labels/policy.h"

namespace {

using tearline::SecretBytes;

constexpr std::int64_t kCreated = 1'800'000'000;

struct Fixture {
  tearline::Policy policy;
  std::array<std::uint8_t, 32> sign_pk{};
  SecretBytes sign_sk;
  std::array<std::uint8_t, 32> enc_pk{};
  SecretBytes enc_sk;
  std::vector<std::uint8_t> reference;
  std::vector<std::string> labels;
  std::vector<std::string> contents;
};

SecretBytes MustAllocate(std::size_t n) {
  auto s = SecretBytes::Allocate(n);
  if (!s.ok()) std::abort();
  return std::move(s).value();
}

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!tearline::InitCrypto().ok()) std::abort();
    auto policy = tearline::Policy::LoadFile(TEARLINE_DEFAULT_POLICY_FOR_FUZZ);
    if (!policy.ok()) std::abort();
    auto* f = new Fixture{std::move(policy).value(), {}, {}, {}, {}, {}, {}, {}};
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x11);
    f->sign_sk = MustAllocate(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(f->sign_pk.data(), f->sign_sk.data(), seed.data());
    seed.fill(0x22);
    f->enc_sk = MustAllocate(crypto_box_SECRETKEYBYTES);
    crypto_box_seed_keypair(f->enc_pk.data(), f->enc_sk.data(), seed.data());

    tearline::SealInput in;
    in.originator = "usa-node";
    in.originator_nation = "USA";
    in.created_unix = kCreated;
    in.expires_unix = kCreated + 3600;
    in.portions.push_back({"(S//REL TO USA, GBR)", {'a', 'b', 'c'}, {}});
    in.portions.push_back({"(U)", {'x', 'y'}, {}});
    in.portions.push_back({"(S//NF)", {'n', 'f'}, {}});
    in.recipients.push_back({"gbr-node", "GBR", 4, f->enc_pk});
    in.intended_nations = {"GBR"};
    auto sealed = tearline::Seal(in, f->sign_sk, f->policy);
    if (!sealed.ok()) std::abort();
    f->reference = sealed->bytes;
    f->labels = {sealed->portion_labels[0], sealed->portion_labels[1]};
    f->contents = {"abc", "xy"};
    return f;
  }();
  return *fixture;
}

void CheckFailure(const tearline::Status& s) {
  if (s.ok() || s.reason().rfind("ENVELOPE_", 0) != 0 || s.message().empty()) std::abort();
  if (s.code() == tearline::Code::kInternal) std::abort();
}

// A forward refusal must say why, and never as an internal error.
void CheckForwardFailure(const tearline::Status& s) {
  if (s.ok() || s.reason().empty() || s.message().empty()) std::abort();
  if (s.code() == tearline::Code::kInternal) std::abort();
}

void ExerciseAsForward(const Fixture& f, std::span<const std::uint8_t> bytes) {
  auto view = tearline::InspectForward(bytes, f.sign_pk, f.sign_pk);
  if (!view.ok()) {
    CheckForwardFailure(view.status());
  } else {
    const std::uint32_t selection[] = {0};
    (void)tearline::SelectForwardPortions(bytes, selection);
  }
  tearline::RecipientIdentity me{"gbr-node", "GBR", 4, f.enc_pk, f.enc_sk};
  auto opened = tearline::OpenForward(bytes, me, f.sign_pk, f.sign_pk, f.policy, kCreated + 10);
  if (!opened.ok()) CheckForwardFailure(opened.status());
}

void Exercise(const Fixture& f, std::span<const std::uint8_t> report) {
  (void)tearline::PeekOriginator(report);
  auto view = tearline::InspectReport(report, f.sign_pk);
  if (!view.ok()) CheckFailure(view.status());
  const std::uint32_t selection[] = {0, 1};
  auto selected = tearline::SelectPortions(report, selection);

  tearline::RecipientIdentity me{"gbr-node", "GBR", 4, f.enc_pk, f.enc_sk};
  for (std::span<const std::uint8_t> candidate :
       {report, selected.ok() ? std::span<const std::uint8_t>(*selected) : report}) {
    auto opened = tearline::Open(candidate, me, f.sign_pk, f.policy, kCreated + 10);
    if (!opened.ok()) {
      CheckFailure(opened.status());
      continue;
    }
    // Anyone on the path may withhold portions (the outer container is not signed, by design:
    // that is how a broker delivers a tearline), so fewer portions may open. Whatever opens must
    // be exactly the originator's: same originator, and each portion's label and content equal
    // to the reference at that index.
    if (opened->originator != "usa-node" || opened->portions.size() > 2) std::abort();
    for (const auto& p : opened->portions) {
      const std::string content(reinterpret_cast<const char*>(p.plaintext.data()),
                                p.plaintext.size());
      if (p.index >= 2 || p.label != f.labels[p.index] || content != f.contents[p.index]) {
        std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    Exercise(f, std::span<const std::uint8_t>(data + 1, size - 1));
    ExerciseAsForward(f, std::span<const std::uint8_t>(data + 1, size - 1));
    return 0;
  }
  std::vector<std::uint8_t> mutated = f.reference;
  for (std::size_t i = 1; i + 2 < size; i += 3) {
    const std::size_t offset = ((std::size_t{data[i]} << 8) | data[i + 1]) % mutated.size();
    mutated[offset] = static_cast<std::uint8_t>(mutated[offset] ^ data[i + 2]);
  }
  Exercise(f, mutated);
  return 0;
}
