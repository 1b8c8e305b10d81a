#include "tearline/audit/audit_field_bound.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

namespace tearline {
namespace {

using nlohmann::json;

constexpr std::size_t kMinStringBytes = 64;
// Room kept for "...[truncated 18446744073709551615 bytes]".
constexpr std::size_t kMarkerReserve = 48;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// A code point a reader must not be shown raw: it would move the cursor, reorder or hide text.
// Tab and newline stay: JSON escapes them on the line, and explanations may span lines.
bool Unsafe(std::uint32_t cp) {
  return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

// Decodes one UTF-8 sequence at `s[i]`; returns its length, or 0 when it is not valid UTF-8
// (overlong, surrogate, beyond U+10FFFF, or cut short).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<std::uint8_t>(s[i]);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<std::uint8_t>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// True when BoundAuditText would return `text` unchanged because every byte is printable ASCII,
// tab or newline and it is short enough. Nearly every string the broker records (ids, digests,
// labels, reason codes) is; it then keeps its buffer instead of being copied.
bool AlreadyBounded(std::string_view text, std::size_t max_bytes) {
  if (text.size() > std::max(max_bytes, kMinStringBytes)) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto b = static_cast<std::uint8_t>(c);
    return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\n';
  });
}

void BoundStrings(json& value, std::size_t max_bytes) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (!AlreadyBounded(text, max_bytes)) value = BoundAuditText(text, max_bytes);
  } else if (value.is_array()) {
    for (auto& element : value) BoundStrings(element, max_bytes);
  } else if (value.is_object()) {
    bool keys_bounded = true;
    for (const auto& member : value.items()) {
      keys_bounded = keys_bounded && AlreadyBounded(member.key(), max_bytes);
    }
    if (keys_bounded) {  // The object keeps its keys: bound the values in place.
      for (auto& element : value) BoundStrings(element, max_bytes);
      return;
    }
    json bounded = json::object();
    for (auto& [key, element] : value.items()) {
      BoundStrings(element, max_bytes);
      bounded[BoundAuditText(key, max_bytes)] = std::move(element);
    }
    value = std::move(bounded);
  }
}

std::size_t DumpSize(const json& value) {
  return value.dump(-1, ' ', true, json::error_handler_t::replace).size();
}

// The array holding the most elements anywhere in `value`, or nullptr when none has any.
json* LongestArray(json& value) {
  json* best = nullptr;
  const auto consider = [&](json* candidate) {
    if (candidate != nullptr && (best == nullptr || candidate->size() > best->size())) {
      best = candidate;
    }
  };
  if (value.is_array() && !value.empty()) best = &value;
  if (value.is_array() || value.is_object()) {
    for (auto& element : value) consider(LongestArray(element));
  }
  return best;
}

}  // namespace

std::string BoundAuditText(std::string_view text, std::size_t max_bytes) {
  max_bytes = std::max(max_bytes, kMinStringBytes);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + kReplacement.size());
  std::size_t cut_out = 0;  // The longest prefix of `out` that leaves room for the marker...
  std::size_t cut_in = 0;   // ...and how much of `text` it shows.
  std::size_t i = 0;
  while (i < text.size() && out.size() <= max_bytes) {
    if (out.size() <= max_bytes - kMarkerReserve) cut_out = out.size(), cut_in = i;
    std::uint32_t cp = 0;
    const std::size_t len = DecodeUtf8(text, i, cp);
    if (len == 0 || Unsafe(cp)) {
      out += kReplacement;
      i += std::max<std::size_t>(len, 1);
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  if (i == text.size() && out.size() <= max_bytes) return out;
  if (out.size() <= max_bytes - kMarkerReserve) cut_out = out.size(), cut_in = i;
  out.resize(cut_out);
  out += "...[truncated " + std::to_string(text.size() - cut_in) + " bytes]";
  return out;
}

void BoundAuditFields(json& fields, std::size_t max_bytes) { BoundStrings(fields, max_bytes); }

bool ShrinkAuditFieldsToFit(json& fields, std::size_t max_bytes) {
  if (!fields.is_object()) fields = json::object();
  if (DumpSize(fields) <= max_bytes) return true;
  BoundStrings(fields, kMinStringBytes);
  fields[std::string(kAuditTruncatedKey)] = true;
  while (DumpSize(fields) > max_bytes) {
    json* array = LongestArray(fields);
    if (array == nullptr) return false;
    const std::size_t keep = array->size() / 2;
    array->erase(array->begin() + static_cast<std::ptrdiff_t>(keep), array->end());
  }
  return true;
}

}  // namespace tearline
