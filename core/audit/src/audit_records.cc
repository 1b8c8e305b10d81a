#include "tearline/audit/audit_records.h"

#include <sodium.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <span>

#include "audit_verify_util.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"

namespace tearline {
namespace {

// 9999-12-31T23:59:59Z: later times are refused (and never converted to time_t).
constexpr double kMaxAuditTime = 253402300799.0;

// Nesting depth of JSON text, computed without parsing so that deeply nested hostile input is
// refused before the recursive parser sees it.
std::size_t JsonDepth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (depth > max_depth) max_depth = depth;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

Status ParseLine(std::string_view bytes, AuditRecord& record) {
  if (bytes.size() > kMaxAuditLineBytes) {
    return InvalidArgument("AUDIT_LINE_TOO_LARGE", "line of " + std::to_string(bytes.size()) +
                                                       " bytes exceeds the cap of " +
                                                       std::to_string(kMaxAuditLineBytes));
  }
  if (!record.fields.Parse(bytes, kMaxAuditJsonDepth)) {
    // The reader refuses too deep a nesting itself; the depth is measured apart (only on this
    // path) so that too deep a line is named as such even when it is also malformed.
    if (JsonDepth(bytes) > kMaxAuditJsonDepth) {
      return InvalidArgument("AUDIT_BAD_JSON", "JSON nested deeper than " +
                                                   std::to_string(kMaxAuditJsonDepth) + " levels");
    }
    return InvalidArgument("AUDIT_BAD_JSON", record.fields.error());
  }
  const AuditJsonValue j = record.fields.Root(bytes);
  if (!j.is_object()) {
    return InvalidArgument("AUDIT_BAD_JSON", std::string("the line is a JSON ") + j.type_name() +
                                                 ", not one JSON object");
  }
  // The three envelope members in one pass over the object (its keys are unique).
  std::optional<AuditJsonValue> seq, time, type;
  if (j.size() > 0) {
    AuditJsonValue member = j.first_child();
    for (std::size_t i = 0;; member = member.next_sibling()) {
      const std::string_view key = member.key();
      if (key == "seq") {
        seq = member;
      } else if (key == "time") {
        time = member;
      } else if (key == "type") {
        type = member;
      }
      if (++i == j.size()) break;
    }
  }
  if (!seq || !seq->is_number_unsigned()) {
    return InvalidArgument("AUDIT_RECORD_MALFORMED", "missing or non-integer \"seq\"");
  }
  if (!time || !time->is_number()) {
    return InvalidArgument("AUDIT_RECORD_MALFORMED", "missing or non-numeric \"time\"");
  }
  const double t = time->number();
  if (!std::isfinite(t) || t < 0 || t > kMaxAuditTime) {
    return InvalidArgument("AUDIT_RECORD_MALFORMED",
                           "\"time\" is negative, not finite or after the year 9999");
  }
  if (!type || !type->is_string() || type->string().empty()) {
    return InvalidArgument("AUDIT_RECORD_MALFORMED", "missing or empty \"type\"");
  }
  record.seq = seq->unsigned_value();
  record.time = t;
  record.type = type->string();
  record.bytes.assign(bytes);
  return Status::Ok();
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

bool AuditLogReader::NextBlock() {
  std::string_view block;
  if (!file_->NextBlock(block)) {
    if (!file_->error().ok()) error_ = AuditLoadError{0, file_->error()};
    return false;
  }
  text_ = block;
  pos_ = 0;
  return !text_.empty();  // Only the last block can be empty: no torn tail.
}

bool AuditLogReader::Next(AuditRecord& record) {
  if (error_) return false;
  if (pos_ >= text_.size() && (file_ == nullptr || !NextBlock())) return false;
  const std::uint64_t line = line_ + 1;
  const std::size_t nl = text_.find('\n', pos_);
  if (nl == std::string_view::npos) {
    error_ = AuditLoadError{
        line, InvalidArgument("AUDIT_TORN_TAIL",
                              "the last line (" + std::to_string(text_.size() - pos_) +
                                  " bytes) has no terminating newline: the log was cut")};
    return false;
  }
  record.line = line;
  Status st = ParseLine(text_.substr(pos_, nl - pos_), record);
  if (!st.ok()) {
    error_ = AuditLoadError{line, std::move(st)};
    return false;
  }
  line_ = line;
  pos_ = nl + 1;
  return true;
}

std::vector<AuditRecord> ParseAuditLog(std::string_view text,
                                       std::optional<AuditLoadError>& error) {
  std::vector<AuditRecord> records;
  AuditLogReader reader(text);
  for (AuditRecord record; reader.Next(record); record = AuditRecord()) {
    records.push_back(std::move(record));
  }
  if (reader.error()) error = reader.error();
  return records;
}

Result<std::uint64_t> audit_detail::CheckedFileSize(const std::filesystem::path& path,
                                                    std::size_t max_size,
                                                    std::string_view reason_prefix) {
  const std::string prefix(reason_prefix);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return NotFound(prefix + "_NOT_FOUND", path.string() + ": no such file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return InvalidArgument(prefix + "_READ", path.string() + ": not a regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return IoError(prefix + "_READ", path.string() + ": " + ec.message());
  if (size > max_size) {
    return Status(Code::kResourceExhausted, prefix + "_TOO_LARGE",
                  path.string() + ": " + std::to_string(size) + " bytes exceeds the cap of " +
                      std::to_string(max_size));
  }
  return size;
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, std::size_t max_size,
                                  std::string_view reason_prefix) {
  auto size = audit_detail::CheckedFileSize(path, max_size, reason_prefix);
  if (!size.ok()) return size.status();
  const std::string prefix(reason_prefix);
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(prefix + "_READ", path.string() + ": " + std::strerror(errno));
  std::string data(static_cast<std::size_t>(*size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.gcount() != static_cast<std::streamsize>(data.size())) {
    return IoError(prefix + "_READ", path.string() + ": short read");
  }
  return data;
}

Status audit_detail::CheckAuditDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound("AUDIT_DIR_NOT_FOUND", dir.string() + ": no such audit directory");
  }
  return Status::Ok();
}

Result<std::string> ReadAuditLogText(const std::filesystem::path& dir) {
  if (Status st = audit_detail::CheckAuditDir(dir); !st.ok()) return st;
  return ReadSmallFile(dir / "log.jsonl", kMaxAuditLogBytes, "AUDIT_LOG");
}

std::vector<AuditRecord> LoadAuditLog(const std::filesystem::path& dir,
                                      std::optional<AuditLoadError>& error) {
  auto text = ReadAuditLogText(dir);
  if (!text.ok()) {
    error = AuditLoadError{0, text.status()};
    return {};
  }
  return ParseAuditLog(*text, error);
}

MerkleTree BuildAuditTree(const std::vector<AuditRecord>& records) {
  MerkleTree tree;
  for (const AuditRecord& r : records) {
    tree.Append(LeafHash(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(r.bytes.data()), r.bytes.size())));
  }
  return tree;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return ToHex(digest);
}

Result<double> ParseAuditTime(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("AUDIT_BAD_TIME",
                           "'" + std::string(text) +
                               "' is neither unix seconds nor ISO-8601 UTC (YYYY-MM-DDTHH:MM:SSZ)");
  };
  if (text.empty() || text.size() > 40) return bad();
  // Unix seconds, optionally with a fraction.
  {
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (IsDigits(whole) && whole.size() <= 12 &&
        (dot == std::string_view::npos || (IsDigits(frac) && frac.size() <= 9))) {
      return std::strtod(std::string(text).c_str(), nullptr);
    }
  }
  // ISO-8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z]
  std::string_view s = text;
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return bad();
  const auto y = s.substr(0, 4), mo = s.substr(5, 2), d = s.substr(8, 2);
  if (!IsDigits(y) || !IsDigits(mo) || !IsDigits(d)) return bad();
  int hh = 0, mm = 0;
  double ss = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s.size() < 16 || s[13] != ':') {
      return bad();
    }
    const auto h = s.substr(11, 2), mi = s.substr(14, 2);
    if (!IsDigits(h) || !IsDigits(mi)) return bad();
    hh = ToInt(h);
    mm = ToInt(mi);
    if (s.size() > 16) {
      if (s[16] != ':' || s.size() < 19) return bad();
      const auto sec = s.substr(17, 2);
      if (!IsDigits(sec)) return bad();
      ss = ToInt(sec);
      if (s.size() > 19) {
        if (s[19] != '.' || !IsDigits(s.substr(20)) || s.size() > 29) return bad();
        ss += std::strtod(("0" + std::string(s.substr(19))).c_str(), nullptr);
      }
    }
  }
  const int month = ToInt(mo), day = ToInt(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss >= 61) {
    return bad();
  }
  const std::int64_t days =
      DaysFromCivil(ToInt(y), static_cast<unsigned>(month), static_cast<unsigned>(day));
  return static_cast<double>(days * 86400 + hh * 3600 + mm * 60) + ss;
}

std::string FormatAuditTime(double unix_seconds) {
  if (!std::isfinite(unix_seconds) || unix_seconds < 0 || unix_seconds > kMaxAuditTime) {
    return "(time out of range)";
  }
  const auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  auto millis = static_cast<int>(std::lround((unix_seconds - static_cast<double>(whole)) * 1000));
  if (millis > 999) millis = 999;
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

}  // namespace tearline
