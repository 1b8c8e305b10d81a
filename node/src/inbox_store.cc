#include "tearline/node/inbox_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "tearline/node/group_commit.h"

namespace tearline::node {
namespace {

// Metadata files are small; anything bigger is not ours.
constexpr std::uintmax_t kMaxMetadataBytes = 256 * 1024;
// Delivered copies are at most one report (16 MiB) plus slack.
constexpr std::uintmax_t kMaxStoredReportBytes = (std::uintmax_t{16} << 20) + 4096;

Result<std::vector<std::uint8_t>> ReadCapped(const std::filesystem::path& path,
                                             std::uintmax_t cap) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return NotFound("INBOX_NOT_FOUND", path.filename().string() + " is not in the inbox");
    }
    return IoError("INBOX_IO", "cannot stat " + path.string() + ": " + ec.message());
  }
  if (size > cap) {
    return Status(Code::kResourceExhausted, "INBOX_CORRUPT",
                  path.string() + " is larger than any file the inbox writes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("INBOX_IO", "cannot open " + path.string());
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (in.gcount() != static_cast<std::streamsize>(data.size())) {
    return IoError("INBOX_IO", "short read of " + path.string());
  }
  return data;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool IsReportIdHex(std::string_view s) { return s.size() == 32 && IsHex(s); }

nlohmann::json InboxEntryToJson(const InboxEntry& e) {
  nlohmann::json portions = nlohmann::json::array();
  for (const auto& p : e.portions) portions.push_back({{"index", p.index}, {"label", p.label}});
  nlohmann::json j = {{"report_id", e.report_id_hex},
                      {"banner", e.banner},
                      {"originator", e.originator},
                      {"originator_nation", e.originator_nation},
                      {"created_unix", e.created_unix},
                      {"expires_unix", e.expires_unix},
                      {"received_unix", e.received_unix},
                      {"portion_count", e.portion_count},
                      {"portions", portions},
                      {"originator_signing_key", e.originator_signing_key_hex},
                      {"originator_certificate", e.originator_cert_fingerprint_hex}};
  // Only forwarded copies carry the chain, so older metadata stays exactly as it was.
  if (!e.forwarder.empty()) {
    j["forwarder"] = e.forwarder;
    j["forwarder_nation"] = e.forwarder_nation;
    j["forwarded_report_id"] = e.forwarded_report_id_hex;
    j["forwarder_signing_key"] = e.forwarder_signing_key_hex;
  }
  return j;
}

Result<InboxEntry> InboxEntryFromJson(const nlohmann::json& j) {
  auto corrupt = [](const std::string& field) {
    return InvalidArgument("INBOX_CORRUPT",
                           "inbox metadata field '" + field + "' is missing or has the wrong type");
  };
  if (!j.is_object()) return corrupt("(root)");
  InboxEntry e;
  auto str = [&](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto i64 = [&](const char* key, std::int64_t& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  for (auto [key, out] : {std::pair{"report_id", &e.report_id_hex},
                          {"banner", &e.banner},
                          {"originator", &e.originator},
                          {"originator_nation", &e.originator_nation},
                          {"originator_signing_key", &e.originator_signing_key_hex},
                          {"originator_certificate", &e.originator_cert_fingerprint_hex}}) {
    if (!str(key, *out)) return corrupt(key);
  }
  if (!IsReportIdHex(e.report_id_hex)) return corrupt("report_id");
  if (j.contains("forwarder")) {
    for (auto [key, out] : {std::pair{"forwarder", &e.forwarder},
                            {"forwarder_nation", &e.forwarder_nation},
                            {"forwarded_report_id", &e.forwarded_report_id_hex},
                            {"forwarder_signing_key", &e.forwarder_signing_key_hex}}) {
      if (!str(key, *out)) return corrupt(key);
    }
    if (e.forwarder.empty()) return corrupt("forwarder");
  }
  for (auto [key, out] : {std::pair{"created_unix", &e.created_unix},
                          {"expires_unix", &e.expires_unix},
                          {"received_unix", &e.received_unix}}) {
    if (!i64(key, *out)) return corrupt(key);
  }
  auto pc = j.find("portion_count");
  if (pc == j.end() || !pc->is_number_unsigned() || pc->get<std::uint64_t>() > 0xffffffffu) {
    return corrupt("portion_count");
  }
  e.portion_count = pc->get<std::uint32_t>();
  auto ps = j.find("portions");
  if (ps == j.end() || !ps->is_array()) return corrupt("portions");
  for (const auto& p : *ps) {
    if (!p.is_object() || !p.contains("index") || !p["index"].is_number_unsigned() ||
        p["index"].get<std::uint64_t>() >= e.portion_count || !p.contains("label") ||
        !p["label"].is_string()) {
      return corrupt("portions");
    }
    e.portions.push_back({p["index"].get<std::uint32_t>(), p["label"].get<std::string>()});
  }
  return e;
}

Result<InboxStore> InboxStore::Open(const std::filesystem::path& data_dir, InboxLimits limits) {
  const std::filesystem::path dir = data_dir / "inbox";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("INBOX_IO", "cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return IoError("INBOX_IO", "cannot chmod 700 " + dir.string() + ": " + ec.message());
  InboxStore store(dir, limits);
  TEARLINE_ASSIGN_OR_RETURN(store.usage_, store.Count());
  return store;
}

Result<InboxStore::Usage> InboxStore::Count() const {
  Usage u;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) return IoError("INBOX_IO", "cannot list " + dir_.string() + ": " + ec.message());
  for (const auto& de : it) {
    const auto& path = de.path();
    const std::string ext = path.extension().string();
    // Hidden temporaries are writes in flight or left by a crash; not part of the inbox.
    if ((ext != ".json" && ext != ".report") || path.filename().string().starts_with('.')) {
      continue;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) continue;  // Removed meanwhile.
    u.bytes += size;
    if (ext == ".json") ++u.reports;
  }
  return u;
}

bool InboxStore::Contains(std::string_view report_id_hex) const {
  if (!IsReportIdHex(report_id_hex)) return false;
  std::error_code ec;
  return std::filesystem::exists(dir_ / (std::string(report_id_hex) + ".json"), ec);
}

Result<bool> InboxStore::Store(const InboxEntry& entry, std::span<const std::uint8_t> report_bytes,
                               StoreMode mode) {
  if (!IsReportIdHex(entry.report_id_hex)) {
    return InvalidArgument("INBOX_BAD_ID", "report id must be 32 lower-case hex characters");
  }
  const bool present = Contains(entry.report_id_hex);
  if (present && mode == StoreMode::kIfAbsent) return false;
  const std::filesystem::path report = dir_ / (entry.report_id_hex + ".report");
  const std::filesystem::path meta = dir_ / (entry.report_id_hex + ".json");
  const std::string text =
      InboxEntryToJson(entry).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::uint64_t adding = report_bytes.size() + text.size();
  if (!present && !Fits(adding)) {
    TEARLINE_ASSIGN_OR_RETURN(usage_, Count());
    if (!Fits(adding)) {
      return Status(Code::kResourceExhausted, "INBOX_FULL",
                    "the inbox holds " + std::to_string(usage_.reports) + " reports and " +
                        std::to_string(usage_.bytes) + " bytes; this report (" +
                        std::to_string(adding) + " bytes) would exceed max_inbox_reports " +
                        std::to_string(limits_.max_reports) + " or max_inbox_bytes " +
                        std::to_string(limits_.max_bytes) + "; it was not stored");
    }
  }
  TEARLINE_RETURN_IF_ERROR(WriteReplacing(report, report_bytes, 0600, commit_, "INBOX_IO"));
  TEARLINE_RETURN_IF_ERROR(WriteReplacing(
      meta, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0600,
      commit_, "INBOX_IO"));
  if (!present) {
    usage_.reports += 1;
    usage_.bytes += adding;
  }
  index_[entry.report_id_hex] = entry;
  return true;
}

Result<bool> InboxStore::StoredCopyMatches(std::string_view report_id_hex,
                                           std::span<const std::uint8_t> report_bytes) const {
  auto stored = ReadReport(report_id_hex);
  if (!stored.ok()) {
    if (stored.status().reason() == "INBOX_NOT_FOUND") return false;
    return stored.status();
  }
  return std::equal(stored->begin(), stored->end(), report_bytes.begin(), report_bytes.end());
}

Result<std::vector<InboxEntry>> InboxStore::List(std::size_t* skipped) const {
  std::size_t bad = 0;
  // Names only (readdir, no stat, no path objects): a report parsed once (stored here, or read at
  // an earlier listing) is answered from the index; only files this process has not seen are
  // read.
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    return IoError("INBOX_IO", "cannot list " + dir_.string() + ": " + std::strerror(errno));
  }
  std::vector<const InboxEntry*> listed;
  while (const dirent* de = ::readdir(d)) {
    const std::string_view name(de->d_name);
    constexpr std::string_view kExt = ".json";
    if (name.size() != 32 + kExt.size() || !name.ends_with(kExt)) continue;
    const std::string_view id = name.substr(0, 32);
    if (!IsReportIdHex(id)) continue;
    auto cached = index_.find(id);
    if (cached == index_.end()) {
      auto found = Find(id);
      if (!found.ok()) {
        ++bad;  // Not cached: a file that becomes readable later is read then.
        continue;
      }
      cached = index_.emplace(std::string(id), std::move(found).value()).first;
    }
    listed.push_back(&cached->second);
  }
  ::closedir(d);
  std::sort(listed.begin(), listed.end(), [](const InboxEntry* a, const InboxEntry* b) {
    return std::tie(a->received_unix, a->report_id_hex) <
           std::tie(b->received_unix, b->report_id_hex);
  });
  std::vector<InboxEntry> entries;
  entries.reserve(listed.size());
  for (const InboxEntry* e : listed) entries.push_back(*e);
  if (skipped != nullptr) *skipped = bad;
  return entries;
}

Result<InboxEntry> InboxStore::Find(std::string_view id_or_prefix) const {
  std::string id(id_or_prefix);
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (id.size() < 4 || id.size() > 32 || !IsHex(id)) {
    return InvalidArgument("INBOX_BAD_ID",
                           "a report id is 32 hex characters (a unique prefix of at least 4 "
                           "characters is accepted)");
  }
  if (id.size() < 32) {
    std::string match;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir_, ec);
    if (ec) return IoError("INBOX_IO", "cannot list " + dir_.string() + ": " + ec.message());
    for (const auto& de : it) {
      const auto& path = de.path();
      const std::string stem = path.stem().string();
      if (path.extension() != ".json" || !IsReportIdHex(stem) || stem.rfind(id, 0) != 0) continue;
      if (!match.empty()) {
        return InvalidArgument("INBOX_AMBIGUOUS_ID",
                               "report id prefix " + id + " matches more than one report");
      }
      match = stem;
    }
    if (match.empty()) return NotFound("INBOX_NOT_FOUND", "no report " + id + "... in the inbox");
    id = match;
  }
  auto bytes = ReadCapped(dir_ / (id + ".json"), kMaxMetadataBytes);
  if (!bytes.ok()) {
    if (bytes.status().reason() == "INBOX_NOT_FOUND") {
      return NotFound("INBOX_NOT_FOUND", "no report " + id + " in the inbox");
    }
    return bytes.status();
  }
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument("INBOX_CORRUPT", "inbox metadata of " + id + " is not valid JSON");
  }
  auto entry = InboxEntryFromJson(j);
  if (!entry.ok()) return entry.status().WithContext("report " + id);
  if (entry->report_id_hex != id) {
    return InvalidArgument("INBOX_CORRUPT", "inbox metadata of " + id + " names another report");
  }
  return entry;
}

Result<std::vector<std::uint8_t>> InboxStore::ReadReport(std::string_view report_id_hex) const {
  if (!IsReportIdHex(report_id_hex)) {
    return InvalidArgument("INBOX_BAD_ID", "report id must be 32 lower-case hex characters");
  }
  return ReadCapped(dir_ / (std::string(report_id_hex) + ".report"), kMaxStoredReportBytes);
}

}  // namespace tearline::node
