#include "tearline/audit/audit_json.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "tearline/audit/audit_field_bound.h"

namespace tearline {
namespace {

enum class ByteClass : std::uint8_t { kPlain, kQuote, kBackslash, kControl, kHigh };

constexpr std::array<ByteClass, 256> MakeByteClasses() {
  std::array<ByteClass, 256> classes{};
  for (std::size_t c = 0; c < 256; ++c) {
    classes[c] = c < 0x20    ? ByteClass::kControl
                 : c == '"'  ? ByteClass::kQuote
                 : c == '\\' ? ByteClass::kBackslash
                 : c >= 0x80 ? ByteClass::kHigh
                             : ByteClass::kPlain;
  }
  return classes;
}
constexpr std::array<ByteClass, 256> kByteClass = MakeByteClasses();

// The bytes of `word` (loaded little-endian) that are a quote, a backslash, a control character
// (< 0x20) or >= 0x80, each flagged by its high bit: the classic "has a byte equal to / less
// than" bit tricks. They never miss such a byte; a false alarm can only come from the borrow of
// a flagged byte below it, so the lowest flag is always exact and the bytes under it are plain.
constexpr std::uint64_t NonPlainBytes(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  const std::uint64_t control = (word - kOnes * 0x20) & ~word;
  const std::uint64_t q = word ^ (kOnes * 0x22);
  const std::uint64_t quote = (q - kOnes) & ~q;
  const std::uint64_t b = word ^ (kOnes * 0x5C);
  const std::uint64_t backslash = (b - kOnes) & ~b;
  return (word | control | quote | backslash) & kHighs;
}
// Plain bytes before the first one that needs a look (8 when none does).
constexpr std::size_t PlainPrefix(std::uint64_t word) {
  return static_cast<std::size_t>(std::countr_zero(NonPlainBytes(word))) / 8;
}
static_assert(PlainPrefix(0x6162636465666768ull) == 8 && PlainPrefix(0x6162632265666768ull) == 4 &&
              PlainPrefix(0x616263645C666768ull) == 3 && PlainPrefix(0x1F62636465666768ull) == 7 &&
              PlainPrefix(0x61626364656667E9ull) == 0 && PlainPrefix(0x0062636465666768ull) == 7 &&
              PlainPrefix(0x2222222222222222ull) == 0 && PlainPrefix(0x2261616161616161ull) == 7);

// A key's length and first eight bytes, mixed into one word: equal keys have equal tags, so a
// key is compared byte by byte only with earlier keys of its tag.
constexpr std::uint64_t KeyTagOf(std::string_view key) {
  std::uint64_t tag = 0;
  const std::size_t n = key.size() < 8 ? key.size() : 8;
  for (std::size_t i = 0; i < n; ++i) {
    tag |= static_cast<std::uint64_t>(static_cast<unsigned char>(key[i])) << (8 * i);
  }
  return tag ^ (static_cast<std::uint64_t>(key.size()) * 0x9E3779B97F4A7C15ull);
}

// The first byte in memory is the lowest in the word on every host (PlainPrefix counts from it).
[[maybe_unused]] constexpr std::uint64_t ByteSwap(std::uint64_t w) {
  std::uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | ((w >> (8 * i)) & 0xFF);
  return r;
}

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

// Recursive descent over the text, appending one node per value in document order. Every branch
// that nlohmann's lexer or parser refuses returns false here; the comments name the rule.
class AuditJsonParser {
 public:
  AuditJsonParser(std::string_view text, std::size_t max_depth, AuditJsonDocument& doc)
      : p_(reinterpret_cast<const unsigned char*>(text.data())),
        n_(text.size()),
        max_depth_(max_depth),
        doc_(doc) {}

  // Exactly one value and nothing after it but whitespace. A byte order mark or a NUL byte is
  // not JSON text, so either fails here like any other stray byte.
  bool Run() {
    SkipWhitespace();
    if (!Value(0)) return false;
    SkipWhitespace();
    return pos_ == n_;
  }

  bool too_deep() const { return too_deep_; }
  // The first key that repeated one of its object, when that is why Run() failed.
  const std::optional<std::string_view>& duplicate_key() const { return duplicate_key_; }

 private:
  using Kind = AuditJsonDocument::Kind;
  using Node = AuditJsonDocument::Node;

  bool AtEnd() const { return pos_ >= n_; }
  unsigned char Peek() const { return pos_ < n_ ? p_[pos_] : 0; }

  void SkipWhitespace() {
    while (pos_ < n_ &&
           (p_[pos_] == ' ' || p_[pos_] == '\t' || p_[pos_] == '\n' || p_[pos_] == '\r')) {
      ++pos_;
    }
  }

  std::uint32_t NewNode(Kind kind) {
    doc_.nodes_.emplace_back();
    doc_.nodes_.back().kind = kind;
    return static_cast<std::uint32_t>(doc_.nodes_.size() - 1);
  }
  void Close(std::uint32_t index) {
    doc_.nodes_[index].end = static_cast<std::uint32_t>(doc_.nodes_.size());
  }

  bool Value(std::size_t depth) {
    if (AtEnd()) return false;
    switch (p_[pos_]) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"': {
        const std::uint32_t index = NewNode(Kind::kString);
        std::uint32_t off = 0, len = 0;
        bool decoded = false;
        if (!String(off, len, decoded)) return false;
        Node& node = doc_.nodes_[index];
        node.str_off = off;
        node.str_len = len;
        node.str_decoded = decoded;
        Close(index);
        return true;
      }
      case 't':
        return Literal("true", Kind::kBool, true);
      case 'f':
        return Literal("false", Kind::kBool, false);
      case 'n':
        return Literal("null", Kind::kNull, false);
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word, Kind kind, bool value) {
    if (n_ - pos_ < word.size() || std::memcmp(p_ + pos_, word.data(), word.size()) != 0) {
      return false;
    }
    pos_ += word.size();
    const std::uint32_t index = NewNode(kind);
    doc_.nodes_[index].b = value;
    Close(index);
    return true;
  }

  bool TooDeep() {
    too_deep_ = true;
    return false;
  }

  std::string_view KeyText(const AuditJsonDocument::KeyRef& k) const {
    return k.decoded ? std::string_view(doc_.decoded_).substr(k.off, k.len)
                     : std::string_view(reinterpret_cast<const char*>(p_) + k.off, k.len);
  }

  // KeyTagOf a key, read from the source with one load when eight bytes
  // are there to read (a key is followed by at least its closing quote and a value).
  std::uint64_t KeyTag(const AuditJsonDocument::KeyRef& k) const {
    if constexpr (std::endian::native == std::endian::little) {
      if (!k.decoded && k.off + std::uint64_t{8} <= n_) {
        std::uint64_t word = 0;
        std::memcpy(&word, p_ + k.off, sizeof word);
        if (k.len < 8) word &= (std::uint64_t{1} << (8 * k.len)) - 1;
        return word ^ (static_cast<std::uint64_t>(k.len) * 0x9E3779B97F4A7C15ull);
      }
    }
    return KeyTagOf(KeyText(k));
  }

  // One of 64 bits chosen by a key's tag: equal keys have equal tags, hence equal bits.
  static std::uint64_t TagBit(std::uint64_t tag) {
    return std::uint64_t{1} << ((tag * 0xFF51AFD7ED558CCDull) >> 58);
  }

  // False when `key` repeats a key of the object whose keys start at keys_[base]; `bits` holds
  // the TagBit of each of them. A key whose bit is not yet set cannot repeat one, so the scan of
  // earlier keys (about a dozen in a record's objects) runs only when two bits collide.
  bool UniqueKey(std::size_t base, std::uint64_t& bits, const AuditJsonDocument::KeyRef& key) {
    const std::uint64_t bit = TagBit(key.tag);
    if ((bits & bit) != 0 && Repeats(base, key)) return false;
    bits |= bit;
    doc_.keys_.push_back(key);
    return true;
  }

  // The scan, apart so that the common path above stays small enough to inline.
  [[gnu::noinline]] bool Repeats(std::size_t base, const AuditJsonDocument::KeyRef& key) {
    const std::string_view text = KeyText(key);
    const std::vector<AuditJsonDocument::KeyRef>& keys = doc_.keys_;
    for (std::size_t i = base; i < keys.size(); ++i) {
      if (keys[i].tag == key.tag && KeyText(keys[i]) == text) {
        duplicate_key_ = text;
        return true;
      }
    }
    return false;
  }

  bool Object(std::size_t depth) {
    if (depth > max_depth_) return TooDeep();
    const std::uint32_t index = NewNode(Kind::kObject);
    ++pos_;
    SkipWhitespace();
    std::uint32_t count = 0;
    // The keys seen so far in this object; nested objects push theirs above and pop them.
    const std::size_t key_base = doc_.keys_.size();
    std::uint64_t key_bits = 0;
    if (Peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        if (Peek() != '"') return false;  // Keys are strings; no trailing comma.
        std::uint32_t key_off = 0, key_len = 0;
        bool key_decoded = false;
        if (!String(key_off, key_len, key_decoded)) return false;
        AuditJsonDocument::KeyRef key{key_off, key_len, key_decoded, 0};
        key.tag = KeyTag(key);
        if (!UniqueKey(key_base, key_bits, key)) return false;
        SkipWhitespace();
        if (Peek() != ':') return false;
        ++pos_;
        SkipWhitespace();
        const auto child = static_cast<std::uint32_t>(doc_.nodes_.size());
        if (!Value(depth)) return false;
        Node& node = doc_.nodes_[child];
        node.key_off = key_off;
        node.key_len = key_len;
        node.key_decoded = key_decoded;
        ++count;
        SkipWhitespace();
        if (Peek() == ',') {
          ++pos_;
          SkipWhitespace();
          continue;
        }
        if (Peek() != '}') return false;
        ++pos_;
        break;
      }
    }
    doc_.keys_.resize(key_base);
    doc_.nodes_[index].count = count;
    Close(index);
    return true;
  }

  bool Array(std::size_t depth) {
    if (depth > max_depth_) return TooDeep();
    const std::uint32_t index = NewNode(Kind::kArray);
    ++pos_;
    SkipWhitespace();
    std::uint32_t count = 0;
    if (Peek() == ']') {
      ++pos_;
    } else {
      for (;;) {
        if (!Value(depth)) return false;
        ++count;
        SkipWhitespace();
        if (Peek() == ',') {
          ++pos_;
          SkipWhitespace();
          continue;
        }
        if (Peek() != ']') return false;
        ++pos_;
        break;
      }
    }
    doc_.nodes_[index].count = count;
    Close(index);
    return true;
  }

  // Length of the valid UTF-8 sequence starting at pos_ (first byte >= 0x80), 0 when invalid:
  // the well-formed byte sequences of Unicode 3.x table 3-7, which nlohmann's lexer checks.
  std::size_t Utf8Length() const {
    const unsigned char c = p_[pos_];
    const auto in = [&](std::size_t k, unsigned char lo, unsigned char hi) {
      return pos_ + k < n_ && p_[pos_ + k] >= lo && p_[pos_ + k] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
    if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    }
    if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) {
      return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    return 0;
  }

  // Four hex digits after "\u"; -1 when any is not a hex digit.
  int Codepoint() {
    if (n_ - pos_ < 4) return -1;
    int value = 0;
    for (int k = 0; k < 4; ++k) {
      const unsigned char c = p_[pos_++];
      int digit = 0;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A string at pos_ (on its opening quote). Without escapes its text stays in the source
  // (off/len index the source); with escapes it is decoded into doc_.decoded_.
  bool String(std::uint32_t& off, std::uint32_t& len, bool& decoded) {
    ++pos_;
    const std::size_t start = pos_;
    // Fast path: plain text up to the closing quote, eight bytes at a time (SWAR) up to the
    // first byte that needs a look, which a byte class table then decides.
    while (pos_ < n_) {
      if (n_ - pos_ >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p_ + pos_, sizeof word);
        if constexpr (std::endian::native != std::endian::little) word = ByteSwap(word);
        const std::size_t plain = PlainPrefix(word);
        pos_ += plain;
        if (plain == 8) continue;
      }
      const unsigned char c = p_[pos_];
      const ByteClass cls = kByteClass[c];
      if (cls == ByteClass::kPlain) {
        ++pos_;
        continue;
      }
      if (cls == ByteClass::kQuote) {
        off = static_cast<std::uint32_t>(start);
        len = static_cast<std::uint32_t>(pos_ - start);
        decoded = false;
        ++pos_;
        return true;
      }
      if (cls == ByteClass::kBackslash) break;
      if (cls == ByteClass::kControl) return false;  // Raw control characters must be escaped.
      const std::size_t k = Utf8Length();
      if (k == 0) return false;
      pos_ += k;
    }
    if (pos_ >= n_) return false;  // Unterminated.
    // Slow path: decode the rest, escapes included.
    std::string& out = doc_.decoded_;
    const std::size_t out_start = out.size();
    out.append(reinterpret_cast<const char*>(p_ + start), pos_ - start);
    while (pos_ < n_) {
      const unsigned char c = p_[pos_];
      if (c == '"') {
        ++pos_;
        off = static_cast<std::uint32_t>(out_start);
        len = static_cast<std::uint32_t>(out.size() - out_start);
        decoded = true;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const std::size_t k = Utf8Length();
        if (k == 0) return false;
        out.append(reinterpret_cast<const char*>(p_ + pos_), k);
        pos_ += k;
        continue;
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= n_) return false;
      const unsigned char e = p_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          const int first = Codepoint();
          if (first < 0) return false;
          std::uint32_t cp = static_cast<std::uint32_t>(first);
          if (first >= 0xD800 && first <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low surrogate.
            if (n_ - pos_ < 2 || p_[pos_] != '\\' || p_[pos_ + 1] != 'u') return false;
            pos_ += 2;
            const int second = Codepoint();
            if (second < 0xDC00 || second > 0xDFFF) return false;
            cp = 0x10000 + ((static_cast<std::uint32_t>(first) - 0xD800) << 10) +
                 (static_cast<std::uint32_t>(second) - 0xDC00);
          } else if (first >= 0xDC00 && first <= 0xDFFF) {
            return false;  // A lone low surrogate.
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return false;  // Not an RFC 8259 escape.
      }
    }
    return false;  // Unterminated.
  }

  bool Digits() {
    const std::size_t start = pos_;
    while (pos_ < n_ && p_[pos_] >= '0' && p_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool Number() {
    const std::size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (Peek() >= '1' && Peek() <= '9') {
      Digits();
    } else {
      return false;
    }
    bool is_float = false;
    if (Peek() == '.') {
      ++pos_;
      if (!Digits()) return false;
      is_float = true;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!Digits()) return false;
      is_float = true;
    }
    const char* first = reinterpret_cast<const char*>(p_ + start);
    const char* last = reinterpret_cast<const char*>(p_ + pos_);
    const std::uint32_t index = NewNode(Kind::kDouble);
    Node& node = doc_.nodes_[index];
    Close(index);
    if (!is_float) {
      // Integers that fit 64 bits stay integers; larger ones become doubles, as in the DOM.
      if (negative) {
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc() && ptr == last) {
          node.kind = Kind::kSigned;
          node.i = v;
          return true;
        }
      } else {
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc() && ptr == last) {
          node.kind = Kind::kUnsigned;
          node.u = v;
          return true;
        }
      }
    }
    // from_chars reads the grammar above exactly as strtod does (both round correctly); only
    // when it reports a value out of range (an overflow, or an underflow strtod rounds to a
    // subnormal or zero) is strtod asked, on a terminated copy.
    double d = 0;
    if (const auto [ptr, ec] = std::from_chars(first, last, d); ec == std::errc() && ptr == last) {
      node.d = d;
      return true;
    }
    const std::string text(first, last);
    node.d = std::strtod(text.c_str(), nullptr);
    return std::isfinite(node.d);  // nlohmann refuses an overflowing number as a parse error.
  }

  const unsigned char* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  std::size_t max_depth_;
  AuditJsonDocument& doc_;
  std::optional<std::string_view> duplicate_key_;  // Into the source or doc_.decoded_.
  bool too_deep_ = false;
};

bool AuditJsonDocument::Parse(std::string_view text, std::size_t max_depth) {
  nodes_.clear();
  decoded_.clear();
  keys_.clear();
  error_.clear();
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    error_ = "the text is larger than 4 GiB";
    return false;
  }
  // About one node per 16 bytes of a typical record line: one allocation in the common case,
  // none when the document is reused for the next line.
  nodes_.reserve(text.size() / 16 + 4);
  AuditJsonParser parser(text, max_depth, *this);
  if (parser.Run()) return true;
  // The sentence is built only on this path. The classes an old lenient reader accepted are
  // named first, whatever else is wrong with the text, so that the refusal says what to fix.
  if (text.starts_with(kUtf8ByteOrderMark)) {
    error_ = "the text starts with a UTF-8 byte order mark, which is not JSON";
  } else if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    error_ = "NUL byte at column " + std::to_string(nul + 1) + ", which is not JSON";
  } else if (parser.too_deep()) {
    error_ = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
  } else if (parser.duplicate_key()) {
    error_ = "duplicate key \"" + BoundAuditText(*parser.duplicate_key(), 64) +
             "\" in one object: every key must be unique";
  } else {
    error_ = "not a valid JSON text";
  }
  nodes_.clear();
  decoded_.clear();
  keys_.clear();
  return false;
}

const char* AuditJsonValue::type_name() const {
  switch (node().kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
    default:
      return "number";
  }
}

double AuditJsonValue::number() const {
  switch (node().kind) {
    case Kind::kUnsigned:
      return static_cast<double>(node().u);
    case Kind::kSigned:
      return static_cast<double>(node().i);
    case Kind::kDouble:
      return node().d;
    default:
      return 0;
  }
}

std::optional<AuditJsonValue> AuditJsonValue::Find(std::string_view key) const {
  if (!is_object() || size() == 0) return std::nullopt;
  AuditJsonValue member = first_child();
  for (std::size_t i = 0;; member = member.next_sibling()) {
    if (member.key() == key) return member;  // Keys are unique: the first match is the only.
    if (++i == size()) break;
  }
  return std::nullopt;
}

}  // namespace tearline
