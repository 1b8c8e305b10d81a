#include "tearline/node/release_book.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tearline/base/encoding.h"
#include "tearline/base/file_util.h"

namespace tearline::node {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRecordBytes = 16 * 1024;

json ToJson(const ReleaseRecord& r) {
  const ReleaseStatusInfo& s = r.status;
  return {{"incoming", r.incoming},
          {"request_id", ToHex(s.request_id)},
          {"report_id", ToHex(s.report_id)},
          {"portion", s.portion},
          {"to_nation", s.to_nation},
          {"state", s.state},
          {"reason", s.reason},
          {"explanation", s.explanation},
          {"label", s.label},
          {"release_report_id", ToHex(s.release_report_id)},
          {"sanitised", s.sanitised},
          {"rule", s.rule},
          {"requester", s.requester},
          {"requester_nation", r.requester_nation},
          {"originator", s.originator},
          {"requested_unix", s.requested_unix},
          {"decided_unix", s.decided_unix},
          {"record_seq", s.record_seq},
          {"why", r.why},
          {"turnaround_ms", r.turnaround_ms}};
}

// Never throws: a file that is not a record is reported as unreadable.
bool FromJson(const json& j, ReleaseRecord& r) {
  try {
    ReleaseStatusInfo& s = r.status;
    r.incoming = j.at("incoming").get<bool>();
    auto id = FromHex(j.at("request_id").get<std::string>());
    auto report = FromHex(j.at("report_id").get<std::string>());
    auto released = FromHex(j.at("release_report_id").get<std::string>());
    if (!id.ok() || !report.ok() || !released.ok()) return false;
    s.request_id = *id;
    s.report_id = *report;
    s.release_report_id = *released;
    s.portion = j.at("portion").get<std::uint32_t>();
    s.to_nation = j.at("to_nation").get<std::string>();
    s.state = j.at("state").get<std::string>();
    s.reason = j.at("reason").get<std::string>();
    s.explanation = j.at("explanation").get<std::string>();
    s.label = j.at("label").get<std::string>();
    s.sanitised = j.at("sanitised").get<bool>();
    s.rule = j.at("rule").get<std::string>();
    s.requester = j.at("requester").get<std::string>();
    r.requester_nation = j.at("requester_nation").get<std::string>();
    s.originator = j.at("originator").get<std::string>();
    s.requested_unix = j.at("requested_unix").get<std::int64_t>();
    s.decided_unix = j.at("decided_unix").get<std::int64_t>();
    s.record_seq = j.at("record_seq").get<std::uint64_t>();
    r.why = j.at("why").get<std::string>();
    r.turnaround_ms = j.at("turnaround_ms").get<std::int64_t>();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

json ReleaseRecordJson(const ReleaseRecord& record, std::int64_t now_unix) {
  json j = ToJson(record);
  const ReleaseStatusInfo& s = record.status;
  j["age_s"] = std::max<std::int64_t>(0, now_unix - s.requested_unix);
  j["turnaround_s"] =
      s.decided_unix > 0 ? std::max<std::int64_t>(0, s.decided_unix - s.requested_unix) : -1;
  return j;
}

std::string ReleaseRecord::request_hex() const { return ToHex(status.request_id); }

Result<ReleaseBook> ReleaseBook::Open(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "releases";
  if (Status st = CreatePrivateDirs(dir); !st.ok()) {
    return IoError("RELEASE_BOOK_IO", "cannot create " + dir.string() + ": " + st.message());
  }
  return ReleaseBook(dir);
}

Status ReleaseBook::Put(const ReleaseRecord& record) {
  const std::string hex = record.request_hex();
  if (hex.size() != 2 * kReleaseIdBytes) {
    return InvalidArgument("RELEASE_MALFORMED", "release request ids are 16 bytes");
  }
  const auto path = dir_ / (hex + ".json");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::size_t n = 0;
    for (const auto& de : std::filesystem::directory_iterator(dir_, ec)) {
      if (de.path().extension() == ".json") ++n;
    }
    if (n >= kMaxReleaseRecords) {
      return Status(
          Code::kResourceExhausted, "RELEASE_REQUEST_LIMIT",
          "the node keeps at most " + std::to_string(kMaxReleaseRecords) + " release requests");
    }
  }
  const std::string text =
      ToJson(record).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (Status st = WriteFileAtomic(
          path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, 0600);
      !st.ok()) {
    return IoError("RELEASE_BOOK_IO", st.message());
  }
  return Status::Ok();
}

Result<ReleaseRecord> ReleaseBook::Find(std::string_view id) const {
  if (id.size() < 4 || id.size() > 2 * kReleaseIdBytes || !IsHex(id)) {
    return NotFound("RELEASE_UNKNOWN_REQUEST",
                    "'" + std::string(id) + "' is not a request id (at least 4 hex digits)");
  }
  std::vector<ReleaseRecord> matches;
  for (ReleaseRecord& r : List()) {
    if (r.request_hex().starts_with(id)) matches.push_back(std::move(r));
  }
  if (matches.size() != 1) {
    return NotFound("RELEASE_UNKNOWN_REQUEST",
                    matches.empty() ? "no release request " + std::string(id)
                                    : "request id prefix " + std::string(id) + " is ambiguous");
  }
  return std::move(matches.front());
}

std::vector<ReleaseRecord> ReleaseBook::List(std::size_t* skipped) const {
  std::vector<ReleaseRecord> out;
  std::size_t bad = 0;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(dir_, ec)) {
    if (de.path().extension() != ".json") continue;
    ReleaseRecord r;
    std::ifstream in(de.path(), std::ios::binary);
    std::string text(kMaxRecordBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    json j = text.size() <= kMaxRecordBytes ? json::parse(text, nullptr, false) : json();
    if (j.is_discarded() || !j.is_object() || !FromJson(j, r)) {
      ++bad;
      continue;
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const ReleaseRecord& a, const ReleaseRecord& b) {
    return a.status.requested_unix < b.status.requested_unix;
  });
  if (skipped) *skipped = bad;
  return out;
}

}  // namespace tearline::node
