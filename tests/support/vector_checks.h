// Checks of the conformance vectors that carry sealed reports, forwards, revocation lists and
// audit directories (tests/vectors/, shapes in docs/PROTOCOL.md "Conformance vectors"). Each
// check reads only the vector's JSON (and the coalition files it names), runs the public verifier
// and reports mismatches as GoogleTest failures; none of them consults the generator.
//
// Thread-safety: one thread (GoogleTest assertions).
#ifndef TEARLINE_TESTS_SUPPORT_VECTOR_CHECKS_H_
#define TEARLINE_TESTS_SUPPORT_VECTOR_CHECKS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"

namespace tearline::testing {

// What the checks need besides the vector: the published policy and the coalition's files.
struct VectorContext {
  const Policy* policy = nullptr;                             // coalition/policy.json, parsed.
  const TrustStore* trust = nullptr;                          // The coalition root, no revocations.
  const std::map<std::string, std::string>* files = nullptr;  // Every vector by path.
};

void CheckPolicyVector(const nlohmann::json& v);
void CheckSealedReportVector(const nlohmann::json& v, const VectorContext& ctx);
void CheckReportRejectionVector(const nlohmann::json& v, const VectorContext& ctx);
void CheckForwardVector(const nlohmann::json& v, const VectorContext& ctx);
void CheckForwardRejectionVector(const nlohmann::json& v, const VectorContext& ctx);
void CheckRevocationVector(const nlohmann::json& v, const VectorContext& ctx);
void CheckAuditDirectoryVector(const nlohmann::json& v);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_VECTOR_CHECKS_H_
