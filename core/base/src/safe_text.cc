#include "tearline/base/safe_text.h"

#include <cstdint>

namespace tearline {
namespace {

// Length of the valid UTF-8 sequence at `s[i]` and its code point, or 0 when it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
  const std::uint8_t c = b(0);
  std::size_t len = 0;
  char32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Code points above ASCII that reorder or break lines, or act as terminal controls.
bool IsHiddenControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029;
}

// An escape: `opening`, then `digits` lower-case hex digits of `value`, then `closing`.
std::string Hex(std::string_view opening, unsigned value, int digits,
                std::string_view closing = "") {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(opening);
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kDigits[(value >> shift) & 0xf];
  out += closing;
  return out;
}

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += Hex("\\x", c, 2);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      char32_t cp = 0;
      const std::size_t len = DecodeUtf8(text, i, cp);
      if (len == 0) {
        out += Hex("\\x", c, 2);
        ++i;
      } else if (IsHiddenControl(cp)) {
        out += Hex("\\u{", static_cast<unsigned>(cp), 4, "}");
        i += len;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
    }
  }
  return out;
}

std::string CsvCell(std::string_view text) {
  std::string cell = TerminalSafe(text);
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@')) {
    cell.insert(cell.begin(), '\'');
  }
  const bool quote = cell.find_first_of(",\"") != std::string::npos ||
                     (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) return cell;
  std::string q = "\"";
  for (char c : cell) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string JsonLineSafe(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    char32_t cp = 0;
    const std::size_t len = c < 0x80 ? 1 : DecodeUtf8(line, i, cp);
    if (c == '\t' || c == '\r' || c == '\n') {
      out += ' ';  // Raw, they are only valid as whitespace between tokens: same value.
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += Hex("\\u", c, 4);
      ++i;
    } else if (len > 1 && IsHiddenControl(cp)) {
      out += Hex("\\u", static_cast<unsigned>(cp), 4);
      i += len;
    } else {
      // Valid JSON holds no raw C0 control and no invalid UTF-8; anything else is copied.
      const std::size_t n = len == 0 ? 1 : len;
      out.append(line.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace tearline
