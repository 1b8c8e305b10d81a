// Internal to the conformance-vector generator: a sealed report or forward taken apart into its
// fields and put back together, so that negative vectors can carry exactly one defect (a changed
// version, label, index or grant) with every other check still passing: the parts are re-committed
// and re-signed with the fixed coalition's keys where the defect needs it. Layouts are those of
// schemas/envelope.fbs and docs/PROTOCOL.md ("Report envelope", "Forward").
//
// Thread-safety: pure functions.
#ifndef TEARLINE_TOOLS_SRC_VECTORS_REPORT_PARTS_H_
#define TEARLINE_TOOLS_SRC_VECTORS_REPORT_PARTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tearline/crypto/keys.h"
#include "vectors_common.h"

namespace tearline::tools::vectors {

struct ReportParts {
  Bytes header;
  Bytes signature;
  std::vector<std::pair<std::uint32_t, Bytes>> bodies;  // (envelope index, body bytes).
};

struct HeaderParts {
  std::uint16_t version = 0;
  Bytes report_id;
  std::string originator;
  std::string originator_nation;
  std::int64_t created = 0;
  std::int64_t expires = 0;
  std::uint32_t portion_count = 0;
  std::vector<std::array<std::uint8_t, 32>> commitments;
  std::vector<std::string> nations;
};

struct BodyParts {
  std::uint32_t index = 0;
  std::string label;
  Bytes salt, nonce, ciphertext;
  struct Wrap {
    std::string recipient;
    Bytes fingerprint, sealed;
  };
  std::vector<Wrap> wraps;  // Provenance is not carried: the vectors' reports have none.
};

// The inputs must be well-formed (the generator only takes apart what it sealed).
ReportParts SplitReport(const Bytes& report);
Bytes JoinReport(const ReportParts& parts);
HeaderParts ReadHeader(const Bytes& header);
Bytes WriteHeader(const HeaderParts& header);
BodyParts ReadBody(const Bytes& body);
Bytes WriteBody(const BodyParts& body);

// SHA-256("tearline/v1/portion-commitment\0" || body).
std::array<std::uint8_t, 32> CommitmentOf(const Bytes& body);
// Sets every present body's commitment in the header and re-signs it with `originator`.
Status RecommitAndResign(ReportParts& parts, const SigningKeyPair& originator);
// Re-signs the header as it is.
Status ResignHeader(ReportParts& parts, const SigningKeyPair& originator);

struct ForwardParts {
  Bytes report;
  Bytes grant;
  Bytes signature;
};

struct GrantParts {
  std::uint16_t version = 0;
  Bytes forward_id;
  Bytes report_id;
  std::string forwarder;
  std::string forwarder_nation;
  std::string target_nation;
  std::int64_t created = 0;
  std::vector<std::uint32_t> portions;
  struct Wrap {
    std::uint32_t index = 0;
    BodyParts::Wrap wrap;
  };
  std::vector<Wrap> wraps;
};

ForwardParts SplitForward(const Bytes& forward);
Bytes JoinForward(const ForwardParts& parts);
GrantParts ReadGrant(const Bytes& grant);
Bytes WriteGrant(const GrantParts& grant);
// Signs the grant with the forwarder's key ("tearline/v1/forward-grant\0" || grant).
Status SignGrant(ForwardParts& parts, const SigningKeyPair& forwarder);

}  // namespace tearline::tools::vectors

#endif  // TEARLINE_TOOLS_SRC_VECTORS_REPORT_PARTS_H_
