#include "tearline/audit/release_decision_check.h"

#include <optional>
#include <string>
#include <vector>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/base/encoding.h"
#include "tearline/wire/release_frames.h"

namespace tearline {
namespace {

Status Unsigned(std::string sentence) {
  return Status(Code::kUnauthenticated, "AUDIT_RELEASE_UNSIGNED", std::move(sentence));
}

Status Mismatch(std::string_view what, std::string_view record, std::string_view signed_value) {
  return Status(Code::kInvalidArgument, "AUDIT_RELEASE_MISMATCH",
                "the record's " + std::string(what) + " (" + BoundAuditText(record, 128) +
                    ") is not what the originator signed (" + BoundAuditText(signed_value, 128) +
                    ")");
}

// A text as the audit log stores it (every record string passes the bound when written).
std::string Stored(std::string_view text) { return BoundAuditText(text); }

std::string_view ExpectedType(const ReleaseDecisionInfo& d) {
  // The broker's choice (Auditor::ReleaseDecision): a rule first, then sanitised.
  if (d.approved && !d.rule.empty()) return ReleaseAutoApprovedRecord::kType;
  if (d.approved && d.sanitised) return ReleaseSanitisedRecord::kType;
  return ReleaseDecidedRecord::kType;
}

Status CompareFields(std::string_view type, const ReleaseDecisionFields& f,
                     const ReleaseDecisionInfo& d) {
  if (f.request_id != ToHex(d.request_id))
    return Mismatch("request_id", f.request_id, ToHex(d.request_id));
  if (f.report_id != ToHex(d.report_id))
    return Mismatch("report_id", f.report_id, ToHex(d.report_id));
  if (f.portion != d.portion) {
    return Mismatch("portion", std::to_string(f.portion), std::to_string(d.portion));
  }
  if (f.to_nation != Stored(d.to_nation)) return Mismatch("to_nation", f.to_nation, d.to_nation);
  const std::string decision = d.approved ? "approved" : "denied";
  if (f.decision != decision) return Mismatch("decision", f.decision, decision);
  if (type != ExpectedType(d)) return Mismatch("type", type, ExpectedType(d));
  if (d.approved) {
    if (f.label.value_or("") != Stored(d.label)) {
      return Mismatch("label", f.label.value_or(""), d.label);
    }
    const std::string released = ToHex(d.release_report_id);
    if (f.release_report_id.value_or("") != released) {
      return Mismatch("release_report_id", f.release_report_id.value_or(""), released);
    }
    if (f.rule.value_or("") != Stored(d.rule)) return Mismatch("rule", f.rule.value_or(""), d.rule);
    if (f.explanation) return Mismatch("explanation", *f.explanation, "");
  } else {
    if (f.label || f.release_report_id || f.rule) {
      return Mismatch("label, release_report_id or rule", "present on a denial", "a denial");
    }
    if (f.explanation.value_or("") != Stored(d.explanation)) {
      return Mismatch("explanation", f.explanation.value_or(""), d.explanation);
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckReleaseDecisionRecord(std::string_view type, const ReleaseDecisionFields& fields,
                                  std::span<const PublicKey> originator_keys) {
  if (!fields.decision_body || fields.decision_body->empty()) {
    return Unsigned("the " + std::string(type) +
                    " record carries no decision_body: nothing shows the originator " +
                    fields.originator + " made this decision");
  }
  auto body = Base64Decode(*fields.decision_body);
  if (!body.ok()) return Unsigned("decision_body is not standard base64");
  auto signature = FromHex(fields.signature);
  if (!signature.ok() || signature->size() != kSignatureSize) {
    return Unsigned("signature is not 64 bytes of lower-case hex");
  }
  auto decision = DecodeReleaseDecisionBody(*body);
  if (!decision.ok()) {
    return Unsigned("decision_body is not a release decision: " + decision.status().message());
  }
  bool signed_by_originator = false;
  for (const PublicKey& key : originator_keys) {
    if (VerifyWithDomain(key, kReleaseDecisionDomain, *body, *signature)) {
      signed_by_originator = true;
      break;
    }
  }
  if (!signed_by_originator) {
    return Status(Code::kUnauthenticated, "AUDIT_RELEASE_SIGNATURE",
                  originator_keys.empty()
                      ? "no certificate of the originator " + fields.originator +
                            " valid under the coalition root at the record's time: the "
                            "decision's signature cannot be checked"
                      : "the decision is not signed by a certified key of the originator " +
                            fields.originator);
  }
  return CompareFields(type, fields, *decision);
}

}  // namespace tearline
