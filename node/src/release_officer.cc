#include "tearline/node/release_officer.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/label.h"
#include "tearline/node/sealer.h"
#include "tearline/wire/wire.h"

namespace tearline::node {
namespace {

ReleaseId RandomId() {
  ReleaseId id(kReleaseIdBytes);
  randombytes_buf(id.data(), id.size());
  return id;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ReleaseOfficer::ReleaseOfficer(const Clock& clock, const NodeIdentity& identity,
                               const DirectoryCache& directory, const InboxStore& inbox,
                               ReleaseBook& book, ReleaseSources& sources,
                               std::vector<ReleaseRule> rules, BrokerChannel& broker,
                               ControlReplier& replier)
    : clock_(clock),
      identity_(identity),
      directory_(directory),
      inbox_(inbox),
      book_(book),
      sources_(sources),
      rules_(std::move(rules)),
      broker_(broker),
      replier_(replier) {}

void ReleaseOfficer::ReplyError(const std::string& client, const Status& status) {
  if (client.empty()) {
    spdlog::warn("event=release_auto_failed reason={} detail=\"{}\"", status.reason(),
                 status.message());
    return;
  }
  replier_.Reply(client, EncodeErrorResponse(status));
}

void ReleaseOfficer::ReplyRecords(const std::string& client,
                                  const std::vector<ReleaseRecord>& records) {
  if (client.empty()) return;
  nlohmann::json list = nlohmann::json::array();
  for (const ReleaseRecord& r : records) list.push_back(ReleaseRecordJson(r, clock_.UnixNow()));
  replier_.Reply(client, EncodeJsonResponse({{"requests", std::move(list)}}));
}

void ReleaseOfficer::Start(const std::string& client, const ControlRequest& request) {
  const ReleaseControl& c = request.release;
  if (c.action == "list") return List(client);
  if (c.action == "request") return Ask(client, c);
  auto record = book_.Find(c.id);
  if (!record.ok()) return ReplyError(client, record.status());
  if (!record->incoming) {
    return ReplyError(client, NotFound("RELEASE_UNKNOWN_REQUEST",
                                       "request " + record->request_hex() +
                                           " was made by this node; only its originator decides"));
  }
  if (Status st = Decide(client, std::move(record).value(), c, ""); !st.ok()) {
    ReplyError(client, st);
  }
}

void ReleaseOfficer::List(const std::string& client) {
  std::size_t skipped = 0;
  auto records = book_.List(&skipped);
  if (skipped > 0) spdlog::warn("event=release_records_unreadable count={}", skipped);
  ReplyRecords(client, records);
}

void ReleaseOfficer::Ask(const std::string& client, const ReleaseControl& c) {
  auto entry = inbox_.Find(c.id);
  if (!entry.ok()) return ReplyError(client, entry.status());
  const std::string to = Upper(c.to);
  if (!identity_.policy->IsNation(to)) {
    return ReplyError(client, InvalidArgument("RELEASE_UNKNOWN_NATION",
                                              "'" + c.to + "' is not a nation of the policy"));
  }
  auto report_id = FromHex(entry->report_id_hex);
  if (!report_id.ok()) return ReplyError(client, report_id.status());
  ReleaseAsk ask{RandomId(), *report_id, c.portion, to, c.why};
  ReleaseRecord record;
  record.incoming = false;
  record.why = c.why;
  record.requester_nation = identity_.nation();
  ReleaseStatusInfo& s = record.status;
  s.request_id = ask.request_id;
  s.report_id = ask.report_id;
  s.portion = ask.portion;
  s.to_nation = to;
  s.state = "pending";
  s.requester = identity_.node_id;
  s.originator = entry->originator;
  s.requested_unix = clock_.UnixNow();
  const std::uint64_t rid = broker_.NewRequestId();
  asked_at_[record.request_hex()] = clock_.Now();
  Send(client, EncodeReleaseRequest(rid, ask), rid, std::move(record));
}

Result<std::vector<std::uint8_t>> ReleaseOfficer::SealRelease(const ReleaseRecord& record,
                                                              const std::string& label,
                                                              std::span<const std::uint8_t> content,
                                                              ReleaseId& report_id) {
  const Policy& policy = *identity_.policy;
  SealInput in;
  in.originator = identity_.node_id;
  in.originator_nation = identity_.nation();
  in.created_unix = clock_.UnixNow();
  in.expires_unix = in.created_unix + kReportLifetimeSeconds;
  in.intended_nations = {record.status.to_nation};
  for (const Certificate* cert : directory_.directory().NodesOfNation(record.status.to_nation)) {
    if (cert->node_id() == identity_.node_id) continue;
    SealRecipient r;
    r.node_id = cert->node_id();
    r.nation = cert->fields().nation;
    r.clearance = policy.FindLevel(cert->fields().clearance);
    r.enc_public_key = cert->fields().encryption_key;
    in.recipients.push_back(r);
  }
  SealPortion portion;
  portion.marking = label;
  portion.plaintext.assign(content.begin(), content.end());
  in.portions.push_back(std::move(portion));
  auto sealed = Seal(in, identity_.keys.signing.secret_key, policy);
  sodium_memzero(in.portions[0].plaintext.data(), in.portions[0].plaintext.size());
  if (!sealed.ok()) return sealed.status().WithContext("sealing the release");
  report_id.assign(sealed->report_id.begin(), sealed->report_id.end());
  // The released portion can itself be asked for later; it leaves in the decision frame, not
  // through the outbox, so its source is durable before that.
  KeepSources(ReportIdHex(sealed->report_id), {sealed->portion_labels.at(0)}, {content},
              ReleaseSources::Sync::kNow);
  return std::move(sealed->bytes);
}

Status ReleaseOfficer::Decide(const std::string& client, ReleaseRecord record,
                              const ReleaseControl& c, const std::string& rule) {
  if (record.status.state != "pending") {
    return Status(Code::kAlreadyExists, "RELEASE_ALREADY_DECIDED",
                  "request " + record.request_hex() + " was already " + record.status.state);
  }
  if (!broker_.welcomed()) {
    return Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                  "the broker is not reachable; decide again when connected");
  }
  ReleaseDecisionInfo d;
  d.request_id = record.status.request_id;
  d.report_id = record.status.report_id;
  d.portion = record.status.portion;
  d.to_nation = record.status.to_nation;
  d.approved = c.action == "approve";
  d.rule = rule;
  d.decided_unix = clock_.UnixNow();
  std::vector<std::uint8_t> report;
  if (d.approved) {
    const Policy& policy = *identity_.policy;
    std::optional<PortionSource> source;
    if (!c.sanitised) {
      auto loaded = sources_.Load(ToHex(d.report_id), d.portion, identity_.keys.encryption);
      if (!loaded.ok()) return loaded.status();
      source = std::move(loaded).value();
    }
    std::string label = c.label;
    if (label.empty()) {
      auto current = source ? ParseLabel(source->label, policy) : Result<Label>(Label{});
      auto widened =
          source && current.ok() ? WidenedLabel(*current, d.to_nation, policy) : std::nullopt;
      if (!widened) {
        return InvalidArgument("RELABEL_BAD_LABEL",
                               "give the new label with --label: the current one cannot simply be "
                               "widened to " +
                                   d.to_nation);
      }
      label = FormatPortion(*widened, policy);
    }
    auto parsed = ParseLabel(label, policy);
    if (!parsed.ok()) {
      return InvalidArgument("RELABEL_BAD_LABEL", "the new label '" + label + "' does not parse: " +
                                                      parsed.status().message());
    }
    d.label = FormatPortion(*parsed, policy);
    d.sanitised = c.sanitised.has_value();
    const std::span<const std::uint8_t> content =
        c.sanitised ? std::span<const std::uint8_t>(*c.sanitised) : source->content.span();
    auto sealed = SealRelease(record, d.label, content, d.release_report_id);
    if (!sealed.ok()) return sealed.status();
    report = std::move(sealed).value();
  } else {
    d.explanation = c.why;
  }
  const std::vector<std::uint8_t> body = EncodeReleaseDecisionBody(d);
  if (body.size() > kMaxReleaseDecisionBodyBytes) {  // The broker would refuse it.
    return InvalidArgument("RELEASE_MALFORMED", "the signed decision would be " +
                                                    std::to_string(body.size()) +
                                                    " bytes, over the protocol's " +
                                                    std::to_string(kMaxReleaseDecisionBodyBytes) +
                                                    "; shorten the explanation or the label");
  }
  auto signature = SignWithDomain(identity_.keys.signing, kReleaseDecisionDomain, body);
  if (!signature.ok()) return signature.status();
  const std::uint64_t rid = broker_.NewRequestId();
  Send(client, EncodeReleaseDecision(rid, body, *signature, report), rid, std::move(record));
  return Status::Ok();
}

void ReleaseOfficer::Send(const std::string& client, const std::vector<std::uint8_t>& frame,
                          std::uint64_t rid, ReleaseRecord record) {
  if (calls_.size() >= kMaxPendingReleaseCalls) {
    return ReplyError(client, Status(Code::kResourceExhausted, "NODE_BUSY",
                                     "too many release requests in progress; retry shortly"));
  }
  if (!broker_.welcomed() || !broker_.Send(frame)) {
    return ReplyError(client, Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                                     "the broker is not reachable; nothing was sent"));
  }
  calls_[rid] = Call{client, clock_.Now() + kReleaseReplyTimeout, std::move(record)};
}

void ReleaseOfficer::OnNotice(const ReleaseNoticeInfo& notice) {
  ReleaseRecord record;
  record.incoming = true;
  record.why = notice.ask.why;
  record.requester_nation = notice.requester_nation;
  ReleaseStatusInfo& s = record.status;
  s.request_id = notice.ask.request_id;
  s.report_id = notice.ask.report_id;
  s.portion = notice.ask.portion;
  s.to_nation = notice.ask.to_nation;
  s.state = "pending";
  s.requester = notice.requester;
  s.originator = identity_.node_id;
  s.requested_unix = notice.requested_unix;
  // A notice offered again after a reconnect must not undo a decision taken meanwhile.
  if (auto known = book_.Find(record.request_hex()); known.ok() && known->incoming) {
    record = std::move(known).value();
  } else if (Status st = book_.Put(record); !st.ok()) {
    spdlog::warn("event=release_notice_not_stored reason={}", st.reason());
    return;
  }
  spdlog::info("event=release_notice request={} report={} portion={} requester={} to={}",
               record.request_hex(), ToHex(s.report_id), s.portion, s.requester, s.to_nation);
  if (record.status.state != "pending") return;
  // A standing authorisation decides at once, for what this node still holds the source of.
  auto source = sources_.Load(ToHex(s.report_id), s.portion, identity_.keys.encryption);
  if (!source.ok()) return;
  auto label = ParseLabel(source->label, *identity_.policy);
  if (!label.ok()) return;
  auto match = MatchReleaseRule(rules_, identity_.nation(), *label, s.to_nation, *identity_.policy);
  if (!match) return;
  ReleaseControl c;
  c.action = "approve";
  c.label = FormatPortion(match->new_label, *identity_.policy);
  spdlog::info("event=release_auto_approving request={} rule={}", record.request_hex(),
               match->rule);
  if (Status st = Decide("", std::move(record), c, match->rule); !st.ok()) ReplyError("", st);
}

void ReleaseOfficer::OnStatus(std::uint64_t request_id, const ReleaseStatusInfo& status) {
  auto call = calls_.find(request_id);
  ReleaseRecord record;
  std::string client;
  if (call != calls_.end()) {
    record = std::move(call->second.record);
    client = call->second.client;
    calls_.erase(call);
    if (record.status.request_id != status.request_id) {
      return ReplyError(client, InvalidArgument("RELEASE_MALFORMED",
                                                "the broker answered about another request"));
    }
  } else {
    auto known = book_.Find(ToHex(status.request_id));
    if (!known.ok()) {
      spdlog::warn("event=release_status_unknown request={}", ToHex(status.request_id));
      return;
    }
    record = std::move(known).value();
  }
  const bool incoming = record.incoming;
  const std::string why = record.why;
  const std::string requester_nation = record.requester_nation;
  record.status = status;
  record.incoming = incoming;
  record.why = why;
  record.requester_nation = requester_nation;
  if (!incoming && status.state != "pending") {
    if (auto at = asked_at_.find(record.request_hex()); at != asked_at_.end()) {
      record.turnaround_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - at->second).count();
      asked_at_.erase(at);
    }
  }
  if (Status st = book_.Put(record); !st.ok()) return ReplyError(client, st);
  spdlog::info("event=release_status request={} state={} turnaround_ms={}", record.request_hex(),
               status.state, record.turnaround_ms);
  ReplyRecords(client, {record});
}

void ReleaseOfficer::OnError(std::uint64_t request_id, const std::string& reason,
                             const std::string& message) {
  auto call = calls_.find(request_id);
  if (call == calls_.end()) return;
  const std::string client = call->second.client;
  asked_at_.erase(call->second.record.request_hex());
  calls_.erase(call);
  ReplyError(client, Status(Code::kPermissionDenied, reason, message));
}

bool ReleaseOfficer::OnFrame(const schema::Frame& frame) {
  if (frame.body_type() == schema::Body::ReleaseNotice) {
    auto notice = ToReleaseNoticeInfo(*frame.body_as_ReleaseNotice());
    if (notice.ok()) OnNotice(*notice);
    if (!notice.ok())
      spdlog::warn("event=release_frame_rejected reason={}", notice.status().reason());
    return true;
  }
  if (frame.body_type() == schema::Body::ReleaseStatus) {
    auto status = ToReleaseStatusInfo(*frame.body_as_ReleaseStatus());
    if (status.ok()) OnStatus(frame.request_id(), *status);
    if (!status.ok())
      spdlog::warn("event=release_frame_rejected reason={}", status.status().reason());
    return true;
  }
  return false;
}

void ReleaseOfficer::Tick() {
  const auto now = clock_.Now();
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    const std::string client = it->second.client;
    it = calls_.erase(it);
    ReplyError(client, Status(Code::kUnavailable, "BROKER_NO_REPLY",
                              "the broker did not answer the release request in time"));
  }
}

void ReleaseOfficer::KeepSources(const std::string& report_hex,
                                 const std::vector<std::string>& labels,
                                 const std::vector<std::span<const std::uint8_t>>& contents,
                                 ReleaseSources::Sync sync) {
  if (Status st =
          sources_.Keep(report_hex, labels, contents, identity_.keys.encryption.public_key, sync);
      !st.ok()) {
    spdlog::warn("event=release_source_not_kept report={} reason={}", report_hex, st.reason());
  }
}

}  // namespace tearline::node
