// A strict, allocation-light JSON reader for audit log lines: one pass over the line produces a
// flat array of value nodes (no tree of heap objects, no map per object), which the record
// decoder (audit_record_types.h) reads through AuditJsonValue views.
//
// Contract: it accepts RFC 8259 JSON texts and nothing else, and gives every value the meaning
// nlohmann::json::parse gives it (tests/unit/audit_json_test.cc compares the two on crafted and
// mutated lines; the audit_record fuzzer on arbitrary bytes). It is stricter than nlohmann in the
// three places where nlohmann is lenient, because an audit line must have one reading only:
//   - a UTF-8 byte order mark is refused (nlohmann skips one at the start);
//   - a NUL byte is refused wherever it is (nlohmann ends the text at a NUL after the value);
//   - a key repeated in one object is refused (nlohmann keeps the last value), so that no two
//     readers can disagree about which of two values a record holds.
// The rest of the grammar:
//   - whitespace space/tab/CR/LF, one value, then only whitespace to the end of the text;
//   - strings: no raw control character (< 0x20), only the RFC escapes, \u surrogates paired,
//     strict UTF-8 (no overlong forms, no encoded surrogates, nothing above U+10FFFF); keys are
//     compared after unescaping ("a" and "\u0061" are the same key);
//   - numbers: no leading zero, no '+', no bare '.'; an integer without '-' that fits 64 bits is
//     unsigned, one with '-' that fits is signed ("-0" is signed 0), anything else (fraction,
//     exponent, out of range) is a double as strtod reads it; one that overflows to infinity
//     (1e400) is a syntax error, as in nlohmann.
// On failure error() is one sentence that names a byte order mark, a NUL byte (with its column),
// a duplicate key (shown sanitised) or too deep a nesting, else "not a valid JSON text".
// Nesting deeper than `max_depth` is refused (callers also pre-check depth; this bound keeps the
// recursion safe on its own).
//
// Ownership: AuditJsonDocument owns the nodes and the decoded text of strings that had escapes;
// strings without escapes are views into the source text, which the caller keeps alive and
// passes again to Root(). AuditJsonValue is a cheap view valid while both live.
// Thread-safety: a parsed document is immutable; concurrent readers are safe.
#ifndef TEARLINE_AUDIT_JSON_H_
#define TEARLINE_AUDIT_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tearline {

class AuditJsonValue;

class AuditJsonDocument {
 public:
  AuditJsonDocument() = default;

  // Parses `text` (below 4 GiB). False on any syntax error, duplicate key or nesting deeper than
  // max_depth; the document is then empty and error() says why. A document reused for the next
  // text keeps its buffers, so a reader of many lines allocates only while they grow.
  [[nodiscard]] bool Parse(std::string_view text, std::size_t max_depth);
  // Why the last Parse failed (one sentence); empty after a success.
  const std::string& error() const { return error_; }

  bool empty() const { return nodes_.empty(); }
  // The top-level value. `source` must hold the bytes given to Parse (they may have moved, e.g.
  // with the std::string holding them, but not changed). Requires !empty().
  AuditJsonValue Root(std::string_view source) const;

 private:
  friend class AuditJsonValue;
  friend class AuditJsonParser;
  enum class Kind : std::uint8_t {
    kNull,
    kBool,
    kUnsigned,
    kSigned,
    kDouble,
    kString,
    kArray,
    kObject
  };
  struct Node {
    Kind kind = Kind::kNull;
    bool key_decoded = false;  // key_* index decoded_ (the key had escapes), else the source.
    bool str_decoded = false;  // Likewise for str_*.
    bool b = false;
    std::uint32_t end = 0;    // Index one past this value's subtree.
    std::uint32_t count = 0;  // Elements or members.
    std::uint32_t key_off = 0, key_len = 0;
    std::uint32_t str_off = 0, str_len = 0;
    union {  // By kind: kUnsigned u, kSigned i, kDouble d.
      std::uint64_t u = 0;
      std::int64_t i;
      double d;
    };
  };

  // A key while its object is being parsed (offsets as in Node), for the duplicate check.
  struct KeyRef {
    std::uint32_t off = 0, len = 0;
    bool decoded = false;
    std::uint64_t tag = 0;  // Length and first bytes: unequal tags mean unequal keys.
  };

  std::vector<Node> nodes_;
  std::string decoded_;       // Unescaped text of the strings and keys that had escapes.
  std::vector<KeyRef> keys_;  // Parse scratch: the keys of the objects still open.
  std::string error_;
};

class AuditJsonValue {
 public:
  using Kind = AuditJsonDocument::Kind;

  bool is_null() const { return node().kind == Kind::kNull; }
  bool is_boolean() const { return node().kind == Kind::kBool; }
  bool is_string() const { return node().kind == Kind::kString; }
  bool is_array() const { return node().kind == Kind::kArray; }
  bool is_object() const { return node().kind == Kind::kObject; }
  bool is_number() const { return is_number_integer() || node().kind == Kind::kDouble; }
  bool is_number_unsigned() const { return node().kind == Kind::kUnsigned; }
  // Signed or unsigned integer (nlohmann's is_number_integer).
  bool is_number_integer() const {
    return node().kind == Kind::kUnsigned || node().kind == Kind::kSigned;
  }
  // nlohmann's type_name(): "null", "boolean", "number", "string", "array", "object".
  const char* type_name() const;

  // Each accessor requires the matching kind (wrong kinds read 0 or empty).
  bool boolean() const { return node().b; }
  std::uint64_t unsigned_value() const { return node().u; }
  std::int64_t signed_value() const { return node().i; }
  // Any number as a double (an integer converted as nlohmann's get<double> does).
  double number() const;
  std::string_view string() const {
    return Text(node().str_decoded, node().str_off, node().str_len);
  }
  // The member name, for a value that is a member of an object.
  std::string_view key() const { return Text(node().key_decoded, node().key_off, node().key_len); }

  // Elements of an array or members of an object.
  std::size_t size() const { return node().count; }
  // The first element or member (requires size() > 0), and the value after this one inside the
  // same array or object (requires that there is one).
  AuditJsonValue first_child() const { return {doc_, source_, index_ + 1}; }
  AuditJsonValue next_sibling() const { return {doc_, source_, node().end}; }
  // The member named `key` of an object (keys are unique in a parsed document).
  std::optional<AuditJsonValue> Find(std::string_view key) const;

 private:
  friend class AuditJsonDocument;
  AuditJsonValue(const AuditJsonDocument* doc, const char* source, std::uint32_t index)
      : doc_(doc), source_(source), index_(index) {}
  const AuditJsonDocument::Node& node() const { return doc_->nodes_[index_]; }
  std::string_view Text(bool decoded, std::uint32_t off, std::uint32_t len) const {
    return decoded ? std::string_view(doc_->decoded_).substr(off, len)
                   : std::string_view(source_ + off, len);
  }

  const AuditJsonDocument* doc_;
  const char* source_;
  std::uint32_t index_;
};

inline AuditJsonValue AuditJsonDocument::Root(std::string_view source) const {
  return {this, source.data(), 0};
}

}  // namespace tearline

#endif  // TEARLINE_AUDIT_JSON_H_
