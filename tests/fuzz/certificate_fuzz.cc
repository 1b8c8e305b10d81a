// libFuzzer target: hostile bytes through the certificate and revocation-list decoders.
// Anything that decodes is also pushed through the signature and trust checks, which must fail
// cleanly (there is no root key the fuzzer could know).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tearline/identity/certificate.h"
#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (!tearline::InitCrypto().ok()) std::abort();

  auto cert = tearline::Certificate::Decode(bytes);
  if (cert.ok()) {
    // Decode accepts only the canonical encoding: the input must round-trip exactly.
    if (cert->encoded().size() != size) std::abort();
    (void)cert->FingerprintHex();
    (void)cert->SignatureVerifiesWith(cert->issuer_key());
    if (cert->role() == tearline::CertRole::kRoot) {
      auto store = tearline::TrustStore::Create(*cert, nullptr);
      if (store.ok()) (void)store->VerifyCertificate(*cert, 0);
    }
  }

  auto list = tearline::RevocationList::Decode(bytes);
  if (list.ok()) {
    if (list->encoded().size() != size) std::abort();
    (void)list->IsRevoked("node", 1);
    (void)list->SignatureVerifiesWith(list->issuer_key());
  }
  return 0;
}
