// The flat reader (audit_json.h) against the DOM reader it replaced: every crafted line, valid or
// of each invalid class, must be accepted or refused identically (same reason, same message) and
// decode to the same typed record. The reader is stricter than the DOM where the DOM is lenient
// (a byte order mark, a NUL byte, a repeated key, a line that is not an object); the reference
// below states those differences explicitly, before it asks the DOM.
#include "tearline/audit/audit_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/audit/audit_record_types.h"
#include "tearline/audit/audit_records.h"

namespace tearline {
namespace {

using nlohmann::json;

// The loader's line checks as they were written over nlohmann::json (the reference).
struct Outcome {
  std::string reason;  // Empty when the line loaded.
  std::string message;
  std::uint64_t seq = 0;
  double time = 0;
  std::string type;
  std::string decode_reason;  // Of DecodeAuditRecord, when the line loaded.
  std::string decode_message;
  std::optional<AnyAuditRecord> record;
};

std::size_t ReferenceDepth(std::string_view text) {
  std::size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
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
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

// The first key repeated inside one object, found by nlohmann's SAX parser (independent of the
// flat reader); parsing stops there, so a syntax error before it wins, as in the reader.
class DuplicateKeyFinder : public nlohmann::json_sax<json> {
 public:
  std::optional<std::string> duplicate;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (open_.back().insert(k).second) return true;
    duplicate = k;
    return false;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  std::vector<std::set<std::string>> open_;
};

Outcome Reference(std::string_view line) {
  Outcome o;
  const auto fail = [&](std::string reason, std::string message) {
    o.reason = std::move(reason);
    o.message = std::move(message);
    return o;
  };
  if (ReferenceDepth(line) > kMaxAuditJsonDepth) {
    return fail("AUDIT_BAD_JSON", "JSON nested deeper than 16 levels");
  }
  // Where the strict reader differs from the DOM: the DOM skips a leading byte order mark, ends
  // the text at a NUL after the value and keeps the last of repeated keys; the reader refuses
  // each, naming it.
  if (line.starts_with("\xEF\xBB\xBF")) {
    return fail("AUDIT_BAD_JSON",
                "the text starts with a UTF-8 byte order mark, which is not JSON");
  }
  if (const std::size_t nul = line.find('\0'); nul != std::string_view::npos) {
    return fail("AUDIT_BAD_JSON",
                "NUL byte at column " + std::to_string(nul + 1) + ", which is not JSON");
  }
  DuplicateKeyFinder finder;
  json::sax_parse(line.begin(), line.end(), &finder);
  if (finder.duplicate) {
    return fail("AUDIT_BAD_JSON", "duplicate key \"" + BoundAuditText(*finder.duplicate, 64) +
                                      "\" in one object: every key must be unique");
  }
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return fail("AUDIT_BAD_JSON", "not a valid JSON text");
  // The DOM reader called a line that is JSON but not an object AUDIT_RECORD_MALFORMED.
  if (!j.is_object()) {
    return fail("AUDIT_BAD_JSON",
                std::string("the line is a JSON ") + j.type_name() + ", not one JSON object");
  }
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_unsigned()) {
    return fail("AUDIT_RECORD_MALFORMED", "missing or non-integer \"seq\"");
  }
  auto time = j.find("time");
  if (time == j.end() || !time->is_number()) {
    return fail("AUDIT_RECORD_MALFORMED", "missing or non-numeric \"time\"");
  }
  const double t = time->get<double>();
  if (!std::isfinite(t) || t < 0 || t > 253402300799.0) {
    return fail("AUDIT_RECORD_MALFORMED",
                "\"time\" is negative, not finite or after the year 9999");
  }
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() || type->get<std::string>().empty()) {
    return fail("AUDIT_RECORD_MALFORMED", "missing or empty \"type\"");
  }
  o.seq = seq->get<std::uint64_t>();
  o.time = t;
  o.type = type->get<std::string>();
  auto decoded = DecodeAuditRecord(o.type, j);
  if (decoded.ok()) {
    o.record = *decoded;
  } else {
    o.decode_reason = decoded.status().reason();
    o.decode_message = decoded.status().message();
  }
  return o;
}

Outcome Flat(std::string_view line) {
  Outcome o;
  std::optional<AuditLoadError> error;
  std::string text(line);
  text += '\n';
  auto records = ParseAuditLog(text, error);
  if (error) {
    o.reason = error->status.reason();
    o.message = error->status.message();
    return o;
  }
  if (records.size() != 1) {
    o.reason = "TEST_WRONG_RECORD_COUNT";
    return o;
  }
  const AuditRecord& r = records[0];
  o.seq = r.seq;
  o.time = r.time;
  o.type = r.type;
  auto decoded = DecodeAuditRecord(r);
  if (decoded.ok()) {
    o.record = *decoded;
  } else {
    o.decode_reason = decoded.status().reason();
    o.decode_message = decoded.status().message();
  }
  return o;
}

// Counts of what the corpus exercised, so that a test that stopped reaching a class fails.
struct Tally {
  std::size_t loaded = 0, decoded = 0, refused = 0, malformed = 0;
};

void ExpectSame(std::string_view line, Tally& tally) {
  const Outcome ref = Reference(line);
  const Outcome flat = Flat(line);
  const std::string shown =
      json(std::string(line)).dump(-1, ' ', true, json::error_handler_t::replace);
  ASSERT_EQ(flat.reason, ref.reason) << shown << " " << flat.message;
  ASSERT_EQ(flat.message, ref.message) << shown;
  if (!ref.reason.empty()) {
    ++tally.refused;
    return;
  }
  ++tally.loaded;
  ASSERT_EQ(flat.seq, ref.seq) << shown;
  ASSERT_EQ(std::memcmp(&flat.time, &ref.time, sizeof(double)), 0) << shown;
  ASSERT_EQ(flat.type, ref.type) << shown;
  ASSERT_EQ(flat.decode_reason, ref.decode_reason) << shown;
  ASSERT_EQ(flat.decode_message, ref.decode_message) << shown;
  ASSERT_EQ(flat.record.has_value(), ref.record.has_value()) << shown;
  if (ref.record) {
    ++tally.decoded;
    ASSERT_TRUE(*flat.record == *ref.record) << shown;
  } else if (ref.decode_reason == "AUDIT_RECORD_MALFORMED") {
    ++tally.malformed;
  }
}

std::string Line(const json& fields, std::string_view type, std::uint64_t seq = 7) {
  json object = fields;
  object["seq"] = seq;
  object["time"] = 1764000000.25;
  object["type"] = type;
  return object.dump();
}

// One valid line per record type the registry knows (default values), so that record types
// added later are covered without editing this test.
std::vector<std::string> EveryTypeLines() {
  std::vector<std::string> lines;
  [&]<typename... T>(std::type_identity<std::variant<T...>>) {
    (lines.push_back(Line(ToJson(AnyAuditRecord(T{})), T::kType)), ...);
  }(std::type_identity<AnyAuditRecord>{});
  return lines;
}

const char kAccepted[] =
    R"j({"originator":"usa-node","originator_nation":"USA","policy_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","portions":[{"ciphertext_bytes":300,"ciphertext_sha256":"bb","index":0,"label":"(S//REL TO USA, GBR)"},{"index":1,"label":"(U)"}],"report_id":"0123456789abcdef0123456789abcdef","created":-5,"expires":1764000000,"intended_nations":["GBR","FRA"],"seq":3,"time":1764000000.5,"type":"accepted"})j";
const char kDelivered[] =
    R"j({"clearance":"SECRET","nation":"GBR","portions":[{"index":0,"label":"(S//REL TO USA, GBR)"}],"recipient":"gbr-node","report_id":"0123456789abcdef0123456789abcdef","seq":4,"time":1764000001,"type":"delivered"})j";

// Lines of each class the reader must judge exactly as the DOM did.
std::vector<std::string> CraftedLines() {
  std::vector<std::string> lines = {
      kAccepted,
      kDelivered,
      // Whitespace, byte order mark, trailing text.
      " \t{\"seq\":0,\"time\":1,\"type\":\"x\"}\r ",
      "\xEF\xBB\xBF{\"seq\":0,\"time\":1,\"type\":\"x\"}",
      "\xEF\xBB{\"seq\":0,\"time\":1,\"type\":\"x\"}",
      "{\"seq\":0,\"time\":1,\"type\":\"x\"} {}",
      "{\"seq\":0,\"time\":1,\"type\":\"x\"}x",
      std::string("{\"seq\":0,\"time\":1,\"type\":\"x\"} ") + '\0' + "junk",
      std::string("{\"seq\":0,\"time\":1,\"type\":\"x\"") + '\0' + "}",
      "",
      " ",
      "{}",
      "[]",
      "null",
      "\"seq\"",
      "7",
      // Duplicate keys (refused), in the envelope, in typed fields, nested, escaped; the same
      // key in sibling and nested objects (accepted).
      R"({"seq":1,"seq":2,"time":1,"type":"a","type":"broker_stop","broker":"a","broker":"b"})",
      R"({"seq":1,"time":1,"type":"broker_stop","broker":"a","broker":5})",
      R"({"seq":"1","seq":1,"time":1,"type":"node_connected","node":"n"})",
      R"({"seq":1,"time":1,"type":"x","a":{"b":1,"b":1}})",
      R"({"seq":1,"time":1,"type":"x","a":[{"b":1},{"b":2}],"b":{"a":{"a":3}}})",
      R"({"seq":1,"time":1,"type":"x","\u0074ime":2})",
      R"({"seq":1,"time":1,"type":"x","\u001b[2J":1,"\u001b[2J":2})",
      R"({"seq":1,"time":1,"type":"x","a":{"b":1,"b":1},})",
      R"({"seq":1,"time":1,"type":"x","a":{"b":1,,"b":1}})",
      // Unknown and empty types, non-objects where objects belong.
      R"({"seq":1,"time":1,"type":"release_requested","anything":[1,{"a":null}]})",
      R"({"seq":1,"time":1,"type":""})",
      R"({"seq":1,"time":1,"type":null})",
      R"({"seq":1,"time":1,"type":"accepted","report_id":"r","originator":"o","originator_nation":"U","portions":[1],"policy_sha256":"p"})",
      R"({"seq":1,"time":1,"type":"accepted","report_id":"r","originator":"o","originator_nation":"U","portions":{},"policy_sha256":"p"})",
      R"({"seq":1,"time":1,"type":"delivered","from_queue":true,"report_id":"r","recipient":"x","nation":"n","clearance":"c","portions":[]})",
      R"({"seq":1,"time":1,"type":"delivered","from_queue":false,"report_id":"r","recipient":"x","nation":"n","clearance":"c","portions":[]})",
      R"({"seq":1,"time":1,"type":"queued","from_queue":true,"report_id":"r","recipient":"x","nation":"n","clearance":"c","portions":[]})",
      // Escapes.
      R"({"seq":1,"time":1,"type":"node_connected","node":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00\u0000"})",
      R"({"seq":1,"time":1,"type":"node_\u0063onnected","no\u0064e":"x"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\x"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\u12"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\u12G4"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\ud83d"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\ud83dx"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\ud83d\u0041"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\ude00"})",
      R"({"seq":1,"time":1,"type":"node_connected","node":"\U0041"})",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"a\\",
      // Control characters and UTF-8.
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"a\tb\"}",
      std::string("{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"a") + '\0' + "b\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"a\x1f\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"a\x7f\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":"
      "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xC0\xAF\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xC1\xBF\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xE0\x80\xAF\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xED\xA0\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xF0\x80\x80\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xF4\x90\x80\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xF5\x80\x80\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\x80\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xE2\x82\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"node\":\"\xFF\"}",
      "{\"seq\":1,\"time\":1,\"type\":\"node_connected\",\"\xC3\xA9\":\"x\",\"node\":\"n\"}",
      // Numbers: canonical and not, out of range, signed zero, exponents.
      R"({"seq":01,"time":1,"type":"x"})",
      R"({"seq":+1,"time":1,"type":"x"})",
      R"({"seq":1,"time":.5,"type":"x"})",
      R"({"seq":1,"time":1.,"type":"x"})",
      R"({"seq":1,"time":-,"type":"x"})",
      R"({"seq":1,"time":1e,"type":"x"})",
      R"({"seq":1,"time":1e+,"type":"x"})",
      R"({"seq":1,"time":0x10,"type":"x"})",
      R"({"seq":-0,"time":1,"type":"x"})",
      R"({"seq":1.0,"time":1,"type":"x"})",
      R"({"seq":1e2,"time":1,"type":"x"})",
      R"({"seq":18446744073709551615,"time":1,"type":"x"})",
      R"({"seq":18446744073709551616,"time":1,"type":"x"})",
      R"({"seq":99999999999999999999999999999,"time":1,"type":"x"})",
      R"({"seq":1,"time":1e400,"type":"x"})",
      R"({"seq":1,"time":-1e400,"type":"x"})",
      R"({"seq":1,"time":1e-400,"type":"x"})",
      R"({"seq":1,"time":-0.0,"type":"x"})",
      R"({"seq":1,"time":-0,"type":"x"})",
      R"({"seq":1,"time":-1,"type":"x"})",
      R"({"seq":1,"time":253402300799,"type":"x"})",
      R"({"seq":1,"time":253402300800,"type":"x"})",
      R"({"seq":1,"time":1.7640000001234567e9,"type":"x"})",
      R"({"seq":1,"time":1E3,"type":"x"})",
      R"({"seq":1,"time":0.1e-2,"type":"x"})",
      R"({"seq":1,"time":NaN,"type":"x"})",
      R"({"seq":1,"time":Infinity,"type":"x"})",
      R"({"seq":1,"time":1,"type":"broker_start","broker":"b","nodes":-0,"torn_tail_bytes":0})",
      R"({"seq":1,"time":1,"type":"broker_start","broker":"b","nodes":-1,"torn_tail_bytes":0})",
      R"({"seq":1,"time":1,"type":"broker_start","broker":"b","nodes":1.0,"torn_tail_bytes":0})",
      R"({"seq":1,"time":1,"type":"broker_start","broker":"b","nodes":18446744073709551616,"torn_tail_bytes":0})",
      R"({"seq":1,"time":1,"type":"denied","report_id":"r","recipient":"x","nation":"n","portion":4294967296,"reason":"r","explanation":"e"})",
      R"({"seq":1,"time":1,"type":"denied","report_id":"r","recipient":"x","nation":"n","portion":4294967295,"reason":"r","explanation":"e"})",
      R"({"seq":1,"time":1,"type":"accepted","report_id":"r","originator":"o","originator_nation":"U","created":-9223372036854775808,"expires":9223372036854775808,"portions":[],"policy_sha256":"p"})",
      R"({"seq":1,"time":1,"type":"accepted","report_id":"r","originator":"o","originator_nation":"U","created":-9223372036854775809,"portions":[],"policy_sha256":"p"})",
      // Structure: missing separators, trailing commas, literals, nesting.
      R"({"seq":1 "time":1,"type":"x"})",
      R"({"seq":1,,"time":1,"type":"x"})",
      R"({"seq":1,"time":1,"type":"x",})",
      R"({"seq":1,"time":1,"type":"x","a":[1,]})",
      R"({"seq":1,"time":1,"type":"x","a":[,1]})",
      R"({seq:1,"time":1,"type":"x"})",
      R"({'seq':1,"time":1,"type":"x"})",
      R"({"seq":1,"time":1,"type":"x","a":tru})",
      R"({"seq":1,"time":1,"type":"x","a":true,"b":false,"c":null,"d":[],"e":{}})",
      R"({"seq":1,"time":1,"type":"x","a":nulll})",
      R"({"seq":1,"time":1,"type":"x"}})",
      R"({"seq":1,"time":1,"type":"x")",
      R"({"seq":1,"time":1,"type":"x",/*c*/"a":1})",
      R"({"seq":1,"time":1,"type":"x","a":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]})",
      R"({"seq":1,"time":1,"type":"x","a":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]})",
      R"({"seq":1,"time":1,"type":"x","a":"[[[[[[[[[[[[[[[[[[[["})",
      R"({"seq":1,"time":1,"type":"x","a":[[[[[[[[[[[[[[[[[[1})",
      R"({"seq":1,"time":1,"type":"broker_stop","broker":true})",
      R"({"seq":1,"time":1,"type":"delivered","from_queue":true,"report_id":"r","recipient":"x","nation":"n","clearance":"c","portions":[{"index":0}]})",
      R"({"seq":1,"time":1,"type":"forward_refused","node":"k","forward_id":"f","report_id":"r","target_nation":"A","portions":[0,1,"2"],"reason":"r","explanation":"e"})",
  };
  for (std::string& l : EveryTypeLines()) lines.push_back(std::move(l));
  return lines;
}

TEST(AuditJsonTest, CraftedLinesJudgedAsTheDomJudgedThem) {
  Tally tally;
  for (const std::string& line : CraftedLines()) ExpectSame(line, tally);
  EXPECT_GT(tally.decoded, 10u);
  EXPECT_GT(tally.refused, 50u);
  EXPECT_GT(tally.malformed, 5u);
}

// Every prefix and every single-byte substitution of valid lines, then random multi-byte edits:
// the classes above arise at every position of real records.
TEST(AuditJsonTest, MutatedLinesJudgedAsTheDomJudgedThem) {
  static constexpr char kBytes[] = {'"', '\\', '\0', '\x1f', '\x80', '\xC3', '\xff', '{',
                                    '}', '[',  ']',  ',',    ':',    '0',    '1',    '-',
                                    'e', '.',  ' ',  'u',    'n',    't',    '\t',   '\xEF'};
  Tally tally;
  std::vector<std::string> bases = {kAccepted, kDelivered};
  for (std::string& l : EveryTypeLines()) bases.push_back(std::move(l));
  for (const std::string& base : bases) {
    for (std::size_t n = 0; n < base.size(); ++n) ExpectSame(base.substr(0, n), tally);
    for (std::size_t i = 0; i < base.size(); ++i) {
      for (char b : kBytes) {
        std::string m = base;
        m[i] = b;
        ExpectSame(m, tally);
        m = base;
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(i), b);
        ExpectSame(m, tally);
      }
    }
  }
  std::mt19937 rng(12);
  for (int round = 0; round < 20000; ++round) {
    std::string m = bases[rng() % bases.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0 && !m.empty(); --edits) {
      const std::size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0:
          m[at] = kBytes[rng() % sizeof kBytes];
          break;
        case 1:
          m.erase(at, 1 + rng() % 8);
          break;
        default:
          m.insert(at, m.substr(rng() % m.size(), 1 + rng() % 16));
      }
    }
    ExpectSame(m, tally);
  }
  EXPECT_GT(tally.decoded, 1000u);
  EXPECT_GT(tally.refused, 10000u);
  EXPECT_GT(tally.malformed, 100u);
}

// Before the reader was strict this text repeated "a" and Find returned the last value; a
// repeated key is now refused (RefusesWhatTheDomWasLenientAbout).
TEST(AuditJsonTest, Values) {
  const std::string text = R"({"a":1,"b":-2,"c":1.5,"d":"x\ny","f":"last","e":[true,null,{}]})";
  AuditJsonDocument doc;
  ASSERT_TRUE(doc.Parse(text, 16));
  EXPECT_TRUE(doc.error().empty());
  const AuditJsonValue root = doc.Root(text);
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 6u);
  EXPECT_EQ(root.Find("a")->unsigned_value(), 1u);
  EXPECT_EQ(root.Find("f")->string(), "last");
  EXPECT_EQ(root.Find("b")->signed_value(), -2);
  EXPECT_FALSE(root.Find("b")->is_number_unsigned());
  EXPECT_DOUBLE_EQ(root.Find("c")->number(), 1.5);
  EXPECT_EQ(root.Find("d")->string(), "x\ny");
  EXPECT_FALSE(root.Find("z").has_value());
  const AuditJsonValue e = *root.Find("e");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(e.first_child().boolean());
  EXPECT_TRUE(e.first_child().next_sibling().is_null());
  EXPECT_TRUE(e.first_child().next_sibling().next_sibling().is_object());
  EXPECT_FALSE(doc.Parse("[[1]]", 1));
  EXPECT_TRUE(doc.empty());
  EXPECT_TRUE(doc.Parse("[[1]]", 2));
}

// The refusal of a log line: its reason, its message and the line it names.
struct Refusal {
  std::uint64_t line = 0;
  std::string reason;
  std::string message;
};

Refusal LoadRefusal(const std::string& text) {
  std::optional<AuditLoadError> error;
  const auto records = ParseAuditLog(text, error);
  if (!error) return {};
  EXPECT_EQ(records.size() + 1, error->line);
  return {error->line, error->status.reason(), error->status.message()};
}

constexpr std::string_view kGood0 = R"({"seq":0,"time":1,"type":"x"})";
constexpr std::string_view kGood1 = R"({"seq":1,"time":1,"type":"x"})";

// Two good lines, then `third` as line 3.
std::string LogWithThirdLine(std::string_view third) {
  return std::string(kGood0) + "\n" + std::string(kGood1) + "\n" + std::string(third) + "\n";
}

TEST(AuditJsonTest, RefusesAByteOrderMarkNamingIt) {
  const Refusal r =
      LoadRefusal(LogWithThirdLine("\xEF\xBB\xBF"
                                   R"({"seq":2,"time":1,"type":"x"})"));
  EXPECT_EQ(r.line, 3u);
  EXPECT_EQ(r.reason, "AUDIT_BAD_JSON");
  EXPECT_NE(r.message.find("byte order mark"), std::string::npos) << r.message;
  // A byte order mark on the first line too (where a lenient reader skipped it).
  const Refusal first = LoadRefusal("\xEF\xBB\xBF" + std::string(kGood0) + "\n");
  EXPECT_EQ(first.line, 1u);
  EXPECT_NE(first.message.find("byte order mark"), std::string::npos) << first.message;
}

TEST(AuditJsonTest, RefusesANulByteNamingItsColumn) {
  // After the object (a lenient reader stopped reading there) and inside a string.
  const Refusal trailing = LoadRefusal(LogWithThirdLine(std::string(kGood1) + '\0'));
  EXPECT_EQ(trailing.line, 3u);
  EXPECT_EQ(trailing.reason, "AUDIT_BAD_JSON");
  EXPECT_EQ(trailing.message, "NUL byte at column 30, which is not JSON");
  const Refusal inside =
      LoadRefusal(LogWithThirdLine(std::string(R"({"seq":2,"time":1,"type":"x)") + '\0' + "\"}"));
  EXPECT_EQ(inside.line, 3u);
  EXPECT_EQ(inside.message, "NUL byte at column 28, which is not JSON");
}

TEST(AuditJsonTest, RefusesARepeatedKeyNamingIt) {
  const Refusal top = LoadRefusal(LogWithThirdLine(R"({"seq":2,"time":1,"type":"x","seq":3})"));
  EXPECT_EQ(top.line, 3u);
  EXPECT_EQ(top.reason, "AUDIT_BAD_JSON");
  EXPECT_EQ(top.message, "duplicate key \"seq\" in one object: every key must be unique");
  // Nested, in a record type's own fields.
  const Refusal nested = LoadRefusal(LogWithThirdLine(
      R"j({"seq":2,"time":1,"type":"delivered","portions":[{"index":0,"label":"(U)","index":1}]})j"));
  EXPECT_EQ(nested.line, 3u);
  EXPECT_EQ(nested.message, "duplicate key \"index\" in one object: every key must be unique");
  // The same key written two ways is one key.
  const Refusal escaped =
      LoadRefusal(LogWithThirdLine(R"({"seq":2,"time":1,"type":"x","\u0074ype":"y"})"));
  EXPECT_EQ(escaped.message, "duplicate key \"type\" in one object: every key must be unique");
  // A hostile key is shown sanitised: no terminal control sequence reaches the auditor's screen.
  const Refusal hostile =
      LoadRefusal(LogWithThirdLine(R"({"seq":2,"time":1,"type":"x","\u001b[2J":1,"\u001b[2J":2})"));
  EXPECT_EQ(hostile.reason, "AUDIT_BAD_JSON");
  EXPECT_EQ(hostile.message.find('\x1b'), std::string::npos);
  EXPECT_NE(hostile.message.find("[2J"), std::string::npos) << hostile.message;
}

TEST(AuditJsonTest, AcceptsOneKeyInManyObjects) {
  // The duplicate check is per object: sibling and nested objects may reuse a key.
  const Refusal none = LoadRefusal(LogWithThirdLine(
      R"({"seq":2,"time":1,"type":"x","a":[{"seq":1},{"seq":2}],"b":{"type":{"type":3}}})"));
  EXPECT_TRUE(none.reason.empty()) << none.message;
}

TEST(AuditJsonTest, RefusesALineThatIsNotOneObject) {
  const Refusal array = LoadRefusal(LogWithThirdLine("[]"));
  EXPECT_EQ(array.line, 3u);
  EXPECT_EQ(array.reason, "AUDIT_BAD_JSON");
  EXPECT_EQ(array.message, "the line is a JSON array, not one JSON object");
  const Refusal two = LoadRefusal(LogWithThirdLine(std::string(kGood1) + " {}"));
  EXPECT_EQ(two.reason, "AUDIT_BAD_JSON");
  EXPECT_EQ(two.message, "not a valid JSON text");
  EXPECT_EQ(LoadRefusal(LogWithThirdLine("7")).message,
            "the line is a JSON number, not one JSON object");
}

// The streaming reader the verifier uses: one AuditRecord reused for every line reads each as
// ParseAuditLog does, and stops for good at the first bad line.
TEST(AuditJsonTest, ReaderReusesOneRecordAndStopsAtTheFirstBadLine) {
  const std::string text = std::string(kAccepted) + "\n" +
                           R"({"seq":1,"time":2,"type":"node_connected","node":"a\u00e9\"b"})" +
                           "\n" + std::string(kDelivered) + "\n" +
                           R"({"seq":3,"time":1,"type":"x","type":"y"})" + "\n" +
                           std::string(kGood0) + "\n";
  std::optional<AuditLoadError> error;
  const std::vector<AuditRecord> all = ParseAuditLog(text, error);
  ASSERT_TRUE(error.has_value());
  ASSERT_EQ(all.size(), 3u);
  AuditLogReader reader(text);
  AuditRecord record;
  for (const AuditRecord& expected : all) {
    ASSERT_TRUE(reader.Next(record));
    EXPECT_EQ(record.line, expected.line);
    EXPECT_EQ(record.bytes, expected.bytes);
    EXPECT_EQ(record.seq, expected.seq);
    EXPECT_EQ(record.type, expected.type);
    const auto decoded = DecodeAuditRecord(record);
    const auto reference = DecodeAuditRecord(expected);
    ASSERT_EQ(decoded.ok(), reference.ok());
    if (decoded.ok()) {
      EXPECT_TRUE(*decoded == *reference);
    }
  }
  EXPECT_FALSE(reader.Next(record));
  ASSERT_TRUE(reader.error().has_value());
  EXPECT_EQ(reader.error()->line, 4u);
  EXPECT_EQ(reader.error()->status.message(),
            "duplicate key \"type\" in one object: every key must be unique");
  EXPECT_EQ(reader.lines(), 3u);
  EXPECT_FALSE(reader.Next(record));  // Stays stopped: line 5 is never read.
  EXPECT_EQ(reader.error()->line, 4u);
}

TEST(AuditJsonTest, ParseErrorSaysWhy) {
  AuditJsonDocument doc;
  EXPECT_FALSE(doc.Parse(R"({"a":1,"a":2})", 16));
  EXPECT_EQ(doc.error(), "duplicate key \"a\" in one object: every key must be unique");
  EXPECT_FALSE(doc.Parse("[[1]]", 1));
  EXPECT_EQ(doc.error(), "JSON nested deeper than 1 levels");
  EXPECT_FALSE(doc.Parse("{", 16));
  EXPECT_EQ(doc.error(), "not a valid JSON text");
  // A reused document forgets the last failure.
  EXPECT_TRUE(doc.Parse(R"({"a":{"a":1}})", 16));
  EXPECT_TRUE(doc.error().empty());
}

}  // namespace
}  // namespace tearline
