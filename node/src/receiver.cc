#include "tearline/node/receiver.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "tearline/base/encoding.h"
#include "tearline/envelope/envelope.h"
#include "tearline/envelope/forward.h"
#include "tearline/labels/label.h"
#include "tearline/labels/release.h"

namespace tearline::node {
namespace {

std::optional<PublicKey> KeyFromHex(std::string_view hex) {
  PublicKey key{};
  std::size_t len = 0;
  if (hex.size() != 2 * key.size() ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != key.size()) {
    return std::nullopt;
  }
  return key;
}

// Runs `open` with the current encryption key and, when the copy is wrapped for the previous
// one (ENVELOPE_KEY_MISMATCH: the wrap names its key's fingerprint) and previous_secret is
// configured, with the previous key. Copies sealed before a rotation stay readable.
template <typename OpenFn>
auto OpenWithEitherKey(const NodeIdentity& identity, OpenFn&& open)
    -> decltype(open(std::declval<const RecipientIdentity&>())) {
  const auto& me = identity.own_cert->fields();
  auto opened = open(RecipientIdentity{identity.node_id, me.nation, identity.clearance,
                                       me.encryption_key, identity.keys.encryption.secret_key});
  if (opened.ok() || opened.status().reason() != "ENVELOPE_KEY_MISMATCH" ||
      !identity.previous_keys) {
    return opened;
  }
  const BoxKeyPair& previous = identity.previous_keys->encryption;
  auto again = open(RecipientIdentity{identity.node_id, me.nation, identity.clearance,
                                      previous.public_key, previous.secret_key});
  // Senders that still seal to the previous key have not refreshed their directory.
  if (again.ok()) spdlog::info("event=copy_opened_with_previous_key");
  return again;
}

}  // namespace

Receiver::Receiver(const Clock& clock, const NodeIdentity& identity, InboxStore& inbox,
                   DirectoryCache& directory, BrokerChannel& broker)
    : clock_(clock), identity_(identity), inbox_(inbox), directory_(directory), broker_(broker) {}

void Receiver::SendError(std::uint64_t rid, const Status& s) {
  (void)broker_.Send(EncodeError(rid, s));
}

void Receiver::OnDeliver(std::uint64_t rid, std::vector<std::uint8_t> report) {
  Handle(rid, std::move(report), false);
}

void Receiver::RetryStashed() {
  std::deque<Stashed> retry;
  retry.swap(stashed_);
  for (auto& sd : retry) Handle(sd.request_id, std::move(sd.report), true);
}

void Receiver::Handle(std::uint64_t rid, std::vector<std::uint8_t> report, bool after_refresh) {
  if (IsForward(report)) return HandleForward(rid, std::move(report), after_refresh);
  auto origin = PeekOriginator(report);
  if (!origin.ok()) {
    spdlog::warn("event=deliver_rejected request={} reason={}", rid, origin.status().reason());
    SendError(rid, origin.status());
    return;
  }
  const Certificate* oc = directory_.directory().FindNode(*origin);
  if (oc == nullptr) {
    if (!after_refresh && stashed_.size() < kMaxStashedDelivers) {
      // The originator may be newer than our directory: refresh and retry once.
      stashed_.push_back({rid, std::move(report)});
      (void)directory_.Request();
      return;
    }
    Status s = Unauthenticated(
        "ORIGINATOR_UNKNOWN",
        "originator '" + *origin + "' has no verified certificate in this node's directory");
    spdlog::warn("event=deliver_rejected request={} originator={} reason={}", rid, *origin,
                 s.reason());
    SendError(rid, s);
    return;
  }
  std::optional<ReportId> report_id;
  Status s = OpenVerifyStore(report, *oc, rid, &report_id);
  if (!s.ok()) {
    spdlog::warn("event=deliver_rejected request={} originator={} reason={} detail=\"{}\"", rid,
                 *origin, s.reason(), s.message());
    // Naming the report lets the broker settle that copy (a permanent reason fails it).
    if (report_id) {
      (void)broker_.Send(EncodeDeliveryRefusal(rid, s, *report_id));
    } else {
      SendError(rid, s);
    }
  }
}

// A forwarded copy: both parties' certificates from the verified directory (one refresh and
// retry when either is unknown), both signatures, the same label checks as a report, stored and
// acknowledged under the forward id.
void Receiver::HandleForward(std::uint64_t rid, std::vector<std::uint8_t> bytes,
                             bool after_refresh) {
  auto parties = PeekForward(bytes);
  if (!parties.ok()) {
    spdlog::warn("event=deliver_rejected request={} reason={}", rid, parties.status().reason());
    SendError(rid, parties.status());
    return;
  }
  const Directory& dir = directory_.directory();
  const Certificate* oc = dir.FindNode(parties->originator);
  const Certificate* fc = dir.FindNode(parties->forwarder);
  if (oc == nullptr || fc == nullptr) {
    if (!after_refresh && stashed_.size() < kMaxStashedDelivers) {
      stashed_.push_back({rid, std::move(bytes)});
      (void)directory_.Request();
      return;
    }
    SendError(rid, Unauthenticated("ORIGINATOR_UNKNOWN",
                                   "the originator or the forwarder of a forwarded copy has no "
                                   "verified certificate in this node's directory"));
    return;
  }
  std::optional<ReportId> forward_id;
  Status s = OpenVerifyStoreForward(bytes, *oc, *fc, rid, &forward_id);
  if (!s.ok()) {
    spdlog::warn("event=deliver_rejected request={} originator={} forwarder={} reason={}", rid,
                 parties->originator, parties->forwarder, s.reason());
    if (forward_id) {
      (void)broker_.Send(EncodeDeliveryRefusal(rid, s, *forward_id));
    } else {
      SendError(rid, s);
    }
  }
}

Status Receiver::OpenVerifyStoreForward(const std::vector<std::uint8_t>& bytes,
                                        const Certificate& oc, const Certificate& fc,
                                        std::uint64_t rid, std::optional<ReportId>* forward_id) {
  if (auto view = InspectForward(bytes, oc.fields().signing_key, fc.fields().signing_key);
      view.ok()) {
    *forward_id = view->forward_id;
    if (inbox_.Contains(ReportIdHex(view->forward_id))) {
      return SendAck(rid, view->forward_id);
    }
  }
  TEARLINE_ASSIGN_OR_RETURN(
      OpenedForward opened, OpenWithEitherKey(identity_, [&](const RecipientIdentity& id) {
        return OpenForward(bytes, id, oc.fields().signing_key, fc.fields().signing_key,
                           *identity_.policy, clock_.UnixNow());
      }));
  if (opened.forwarder_nation != fc.fields().nation) {
    return Unauthenticated("FORWARDER_NATION_MISMATCH",
                           "forward claims nation " + opened.forwarder_nation +
                               " but the forwarder's certificate says " + fc.fields().nation);
  }
  InboxEntry e;
  e.report_id_hex = ReportIdHex(opened.forward_id);
  e.forwarder = opened.forwarder;
  e.forwarder_nation = opened.forwarder_nation;
  e.forwarded_report_id_hex = ReportIdHex(opened.report_id);
  e.forwarder_signing_key_hex = ToHex(fc.fields().signing_key);
  return StoreOpened(opened.report, oc, bytes, rid, opened.forward_id, std::move(e),
                     InboxStore::StoreMode::kIfAbsent);
}

Status Receiver::SendAck(std::uint64_t rid, const ReportId& report_id) {
  auto sig =
      SignWithDomain(identity_.keys.signing, kAckDomain, AckMessage(report_id, identity_.node_id));
  if (!sig.ok()) return sig.status();
  auto send = [this, frame = EncodeAck(rid, report_id, *sig), report_id] {
    if (!broker_.Send(frame)) {
      // Stored but not acknowledged: the broker re-sends after the next Welcome and the
      // duplicate is acknowledged then.
      spdlog::warn("event=ack_not_sent report={}", ReportIdHex(report_id));
    }
  };
  // Never before the report is durable: with a group commit, after the batch's sync.
  if (commit_ == nullptr) {
    send();
  } else {
    commit_->AfterDurable(std::move(send));
  }
  return Status::Ok();
}

Status Receiver::OpenVerifyStore(const std::vector<std::uint8_t>& report, const Certificate& oc,
                                 std::uint64_t rid, std::optional<ReportId>* report_id) {
  const Policy& policy = *identity_.policy;
  // A new copy is verified once, by Open (signature, commitments, labels, decryption): checking
  // the signature again beforehand only to look for a duplicate cost a second Ed25519
  // verification and commitment pass on every report. The report id Open returns is
  // authenticated, so the duplicate check follows it.
  // Exactly once: a copy the broker sends again (it had not seen the Ack before a restart or
  // a lost connection) is acknowledged again without being stored twice. A stored copy that
  // differs from this one (a crash before the batch sync left it incomplete; it was never
  // acknowledged) is replaced by this verified one.
  const std::int64_t now = clock_.UnixNow();
  auto opened = OpenWithEitherKey(identity_, [&](const RecipientIdentity& id) {
    return Open(report, id, oc.fields().signing_key, policy, now);
  });
  if (!opened.ok()) return RefusedOrDuplicate(report, oc, rid, opened.status(), report_id);
  *report_id = opened->report_id;
  const std::string hex = ReportIdHex(opened->report_id);
  auto mode = InboxStore::StoreMode::kIfAbsent;
  if (inbox_.Contains(hex)) {
    if (auto same = inbox_.StoredCopyMatches(hex, report); same.ok() && *same) {
      return AckDuplicate(rid, opened->report_id, opened->originator);
    }
    spdlog::warn("event=inbox_copy_repaired report={}", hex);
    mode = InboxStore::StoreMode::kReplace;
  }
  InboxEntry e;
  e.report_id_hex = hex;
  return StoreOpened(*opened, oc, report, rid, opened->report_id, std::move(e), mode);
}

Status Receiver::RefusedOrDuplicate(const std::vector<std::uint8_t>& report, const Certificate& oc,
                                    std::uint64_t rid, Status refusal,
                                    std::optional<ReportId>* report_id) {
  // Open refused the copy. If its signature verifies it is the originator's report: the refusal
  // can name it, and a copy stored earlier (fully verified on receipt) is acknowledged again
  // even though an expiry or a key or policy change since then makes Open refuse it now.
  auto view = InspectReport(report, oc.fields().signing_key);
  if (!view.ok()) return refusal;
  *report_id = view->report_id;
  const std::string hex = ReportIdHex(view->report_id);
  if (inbox_.Contains(hex)) {
    if (auto same = inbox_.StoredCopyMatches(hex, report); same.ok() && *same) {
      return AckDuplicate(rid, view->report_id, view->originator);
    }
  }
  return refusal;
}

Status Receiver::AckDuplicate(std::uint64_t rid, const ReportId& report_id,
                              const std::string& originator) {
  TEARLINE_RETURN_IF_ERROR(SendAck(rid, report_id));
  spdlog::info("event=report_received report={} originator={} stored=duplicate",
               ReportIdHex(report_id), originator);
  return Status::Ok();
}

Status Receiver::StoreOpened(const OpenedReport& opened, const Certificate& oc,
                             const std::vector<std::uint8_t>& report, std::uint64_t rid,
                             const ReportId& ack_id, InboxEntry e, InboxStore::StoreMode mode) {
  const auto& me = identity_.own_cert->fields();
  const Policy& policy = *identity_.policy;
  const std::int64_t now = clock_.UnixNow();
  if (opened.originator != oc.node_id() || opened.originator_nation != oc.fields().nation) {
    return Unauthenticated("ORIGINATOR_NATION_MISMATCH",
                           "report claims nation " + opened.originator_nation +
                               " but the originator's certificate says " + oc.fields().nation);
  }
  // Defence in depth: decide again here, with this node's own policy, nation and clearance,
  // independently of what Open, the broker and the originator decided.
  for (const auto& p : opened.portions) {
    // The same canonical-form check as the broker's and the audit verifier's: a label this node
    // would read differently from the log is refused, not stored.
    auto label = ParseCanonicalPortion(p.label, policy);
    if (!label.ok() && label.status().reason() == "LABEL_NOT_CANONICAL") {
      return label.status().WithContext("portion index " + std::to_string(p.index));
    }
    if (!label.ok()) {
      return InvalidArgument("NODE_LABEL_INVALID",
                             "portion index " + std::to_string(p.index) +
                                 " label does not parse: " + label.status().reason());
    }
    auto d = DecideRelease(
        *label, Recipient{me.nation, identity_.clearance, opened.originator_nation}, policy);
    if (!d.ok()) return d.status();
    if (!d->release) {
      return PermissionDenied(
          "NODE_LABEL_NOT_RELEASABLE",
          "portion index " + std::to_string(p.index) + " (" + p.label +
              ") is not releasable to this node: " + std::string(DenyReasonName(d->reason)));
    }
    e.portions.push_back({p.index, p.label});
  }
  e.banner = opened.banner;
  e.originator = opened.originator;
  e.originator_nation = opened.originator_nation;
  e.created_unix = opened.created_unix;
  e.expires_unix = opened.expires_unix;
  e.received_unix = now;
  e.portion_count = opened.portion_count;
  e.originator_signing_key_hex = ToHex(oc.fields().signing_key);
  e.originator_cert_fingerprint_hex = oc.FingerprintHex();
  // Durable (files and directory fsync'd) before the Ack leaves: an acknowledged report is
  // never lost, and a crash before the Ack only causes a re-delivery, acknowledged above.
  TEARLINE_ASSIGN_OR_RETURN(bool stored, inbox_.Store(e, report, mode));
  TEARLINE_RETURN_IF_ERROR(SendAck(rid, ack_id));
  spdlog::info(
      "event=report_received report={} originator={} forwarder={} portions={}/{} banner=\"{}\" {}",
      e.report_id_hex, e.originator, e.forwarder.empty() ? "-" : e.forwarder, e.portions.size(),
      e.portion_count, e.banner, stored ? "stored=new" : "stored=duplicate");
  return Status::Ok();
}

Result<ReadResult> Receiver::Read(const std::string& id) const {
  TEARLINE_ASSIGN_OR_RETURN(InboxEntry e, inbox_.Find(id));
  TEARLINE_ASSIGN_OR_RETURN(auto bytes, inbox_.ReadReport(e.report_id_hex));
  auto key = KeyFromHex(e.originator_signing_key_hex);
  if (!key) return InvalidArgument("INBOX_CORRUPT", "stored originator key is not valid hex");
  // Verified on receipt; re-opened with the receipt time so an expired report stays readable.
  // A copy received before a key rotation opens with the previous key (previous_secret).
  OpenedReport opened;
  if (e.forwarder.empty()) {
    TEARLINE_ASSIGN_OR_RETURN(opened,
                              OpenWithEitherKey(identity_, [&](const RecipientIdentity& rid) {
                                return Open(bytes, rid, *key, *identity_.policy, e.received_unix);
                              }));
  } else {
    auto fkey = KeyFromHex(e.forwarder_signing_key_hex);
    if (!fkey) return InvalidArgument("INBOX_CORRUPT", "stored forwarder key is not valid hex");
    TEARLINE_ASSIGN_OR_RETURN(
        OpenedForward f, OpenWithEitherKey(identity_, [&](const RecipientIdentity& rid) {
          return OpenForward(bytes, rid, *key, *fkey, *identity_.policy, e.received_unix);
        }));
    if (ReportIdHex(f.forward_id) != e.report_id_hex) {
      return InvalidArgument("INBOX_CORRUPT", "stored forward does not match its metadata");
    }
    opened = std::move(f.report);
    opened.report_id = f.forward_id;  // Compared with the metadata's id below.
  }
  if (ReportIdHex(opened.report_id) != e.report_id_hex) {
    return InvalidArgument("INBOX_CORRUPT", "stored report does not match its metadata");
  }
  ReadResult r;
  r.entry = std::move(e);
  for (auto& p : opened.portions) {
    ReadPortion rp;
    rp.index = p.index;
    rp.label = p.label;
    rp.content.assign(p.plaintext.data(), p.plaintext.data() + p.plaintext.size());
    r.portions.push_back(std::move(rp));
  }
  return r;
}

}  // namespace tearline::node
