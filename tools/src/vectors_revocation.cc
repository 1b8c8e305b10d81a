// revocation_lists/: the root's signed revocation lists, and what a holder of the coalition root
// does with each (TrustStore::UpdateRevocations after RevocationList::Decode).
#include <string>
#include <utility>

#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"
#include "vectors_common.h"

namespace tearline::tools::vectors {
namespace {

constexpr std::int64_t kIssuedAt = kNow - 600;

// What a trust store holding `held` (if any) says to `offered`.
Result<std::string> Verdict(const Coalition& c, const Bytes* held, const Bytes& offered) {
  TEARLINE_ASSIGN_OR_RETURN(TrustStore trust, TrustStore::Create(*c.root.cert, nullptr));
  if (held != nullptr) {
    TEARLINE_ASSIGN_OR_RETURN(RevocationList h, RevocationList::Decode(*held));
    TEARLINE_RETURN_IF_ERROR(trust.UpdateRevocations(std::move(h)));
  }
  auto list = RevocationList::Decode(offered);
  if (!list.ok()) return list.status().reason();
  const Status st = trust.UpdateRevocations(std::move(list).value());
  return st.ok() ? std::string("OK") : st.reason();
}

Json EntriesJson(const RevocationList& list) {
  Json out = Json::array();
  for (const RevocationEntry& e : list.entries()) {
    out.push_back({{"node_id", e.node_id}, {"serial", e.serial}});
  }
  return out;
}

}  // namespace

Status RevocationVectors(const Coalition& c, const Emit& emit) {
  const Identity& jpn = c.Member("jpn-1");
  auto one = [&](const std::string& name, const std::string& description, const Bytes& offered,
                 const Bytes* held, const std::string& expect) -> Status {
    TEARLINE_ASSIGN_OR_RETURN(std::string got, Verdict(c, held, offered));
    if (got != expect) {
      return Internal("VECTORS_GENERATE",
                      "revocation " + name + ": expected " + expect + ", got " + got);
    }
    Json j = {{"kind", "revocation_list"},
              {"description", description + " (root: coalition/root.json)"},
              {"list_hex", Hex(offered)},
              {"held_list_hex", held != nullptr ? Hex(*held) : std::string()},
              {"expect", expect}};
    if (expect == "OK") {
      TEARLINE_ASSIGN_OR_RETURN(RevocationList list, RevocationList::Decode(offered));
      j["sequence"] = list.sequence();
      j["issued_at"] = list.issued_at();
      j["entries"] = EntriesJson(list);
    }
    emit("revocation_lists/" + name + ".json", std::move(j));
    return Status::Ok();
  };
  TEARLINE_ASSIGN_OR_RETURN(RevocationList first,
                            RevocationList::Issue(c.root.signing, 1, kIssuedAt - 86400, {}));
  TEARLINE_ASSIGN_OR_RETURN(
      RevocationList second,
      RevocationList::Issue(c.root.signing, 2, kIssuedAt, {{jpn.name, jpn.serial}}));
  TEARLINE_RETURN_IF_ERROR(one("empty",
                               "sequence 1 revoking nothing, offered to a store that holds no list",
                               first.encoded(), nullptr, "OK"));
  TEARLINE_RETURN_IF_ERROR(one("revokes_jpn",
                               "sequence 2 revoking jpn-1's certificate (serial " +
                                   std::to_string(jpn.serial) +
                                   "), offered after sequence 1: jpn-1's certificate is then "
                                   "CERT_REVOKED",
                               second.encoded(), &first.encoded(), "OK"));
  TEARLINE_RETURN_IF_ERROR(one("stale_same_sequence",
                               "sequence 2 offered again to a store that holds sequence 2",
                               second.encoded(), &second.encoded(), "REVOCATION_STALE"));
  TEARLINE_RETURN_IF_ERROR(one("stale_older",
                               "sequence 1 offered to a store that holds sequence 2 (a rollback)",
                               first.encoded(), &second.encoded(), "REVOCATION_STALE"));
  Bytes flipped = second.encoded();
  flipped[flipped.size() - 8] ^= 0x01;  // Inside the trailing 64-byte signature vector.
  TEARLINE_RETURN_IF_ERROR(one("bad_signature", "one bit of the signature flipped", flipped,
                               nullptr, "REVOCATION_BAD_SIGNATURE"));
  // The real root's key in the body, signed by another key: only the signature tells.
  TEARLINE_ASSIGN_OR_RETURN(Identity other, MakeIdentity("other-root", CertRole::kRoot, "", "", 1));
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes other_sk,
                            SecretBytes::CopyOf(other.signing.secret_key.span()));
  const SigningKeyPair impostor{c.root.signing.public_key, std::move(other_sk)};
  TEARLINE_ASSIGN_OR_RETURN(RevocationList forged,
                            RevocationList::Issue(impostor, 3, kIssuedAt, {}));
  TEARLINE_RETURN_IF_ERROR(one("forged_issuer",
                               "names the coalition root as issuer but is signed by another key",
                               forged.encoded(), nullptr, "REVOCATION_BAD_SIGNATURE"));
  TEARLINE_ASSIGN_OR_RETURN(RevocationList stranger,
                            RevocationList::Issue(other.signing, 3, kIssuedAt, {}));
  TEARLINE_RETURN_IF_ERROR(one("wrong_root", "issued and signed by another root",
                               stranger.encoded(), nullptr, "REVOCATION_WRONG_ROOT"));
  const Bytes truncated(second.encoded().begin(), second.encoded().begin() + 40);
  TEARLINE_RETURN_IF_ERROR(
      one("malformed", "the first 40 bytes of a list", truncated, nullptr, "REVOCATION_MALFORMED"));
  return Status::Ok();
}

}  // namespace tearline::tools::vectors
