#include "tearline/audit/audit_record_types.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "tearline/audit/audit_records.h"

namespace tearline {
namespace {

using nlohmann::json;

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// ----- Encoding ----------------------------------------------------------------------------------

template <typename T>
json EncodeObject(const T& value);

template <typename M>
json EncodeValue(const M& value) {
  if constexpr (std::is_same_v<M, AuditTrueFlag>) {
    return true;
  } else if constexpr (std::is_same_v<M, std::string> || std::is_integral_v<M>) {
    return value;
  } else if constexpr (IsVector<M>::value) {
    json array = json::array();
    for (const auto& element : value) array.push_back(EncodeValue(element));
    return array;
  } else {
    return EncodeObject(value);
  }
}

template <typename T>
json EncodeObject(const T& value) {
  json object = json::object();
  std::apply(
      [&](const auto&... field) {
        const auto put = [&](const auto& f) {
          const auto& member = value.*(f.member);
          if constexpr (IsOptional<std::decay_t<decltype(member)>>::value) {
            if (member) object[std::string(f.key)] = EncodeValue(*member);
          } else {
            object[std::string(f.key)] = EncodeValue(member);
          }
        };
        (put(field), ...);
      },
      AuditRecordSchema<T>::kFields);
  return object;
}

// ----- Decoding ----------------------------------------------------------------------------------

Status Malformed(std::string_view where, std::string_view what) {
  return InvalidArgument("AUDIT_RECORD_MALFORMED", std::string(where) + " " + std::string(what));
}

template <typename M>
const char* Expected() {
  if constexpr (std::is_same_v<M, AuditTrueFlag>) {
    return "true";
  } else if constexpr (std::is_same_v<M, std::string>) {
    return "a string";
  } else if constexpr (std::is_same_v<M, std::uint32_t>) {
    return "an unsigned integer below 2^32";
  } else if constexpr (std::is_same_v<M, std::uint64_t>) {
    return "an unsigned integer";
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    return "an integer";
  } else if constexpr (IsVector<M>::value) {
    return "an array";
  } else {
    return "an object";
  }
}

// The decoder reads both value models through these overloads: nlohmann::json (objects built
// in memory, tests) and AuditJsonValue (lines read from a log, without a DOM).
bool GetBool(const json& v) { return v.get<bool>(); }
bool GetBool(const AuditJsonValue& v) { return v.boolean(); }
// Assigns rather than constructs, so that a string decoded before keeps its buffer.
void GetString(const json& v, std::string& out) { out = v.get_ref<const std::string&>(); }
void GetString(const AuditJsonValue& v, std::string& out) { out.assign(v.string()); }
std::uint64_t GetUnsigned(const json& v) { return v.get<std::uint64_t>(); }
std::uint64_t GetUnsigned(const AuditJsonValue& v) { return v.unsigned_value(); }
std::int64_t GetSigned(const json& v) { return v.get<std::int64_t>(); }
std::int64_t GetSigned(const AuditJsonValue& v) { return v.signed_value(); }
const json* FindMember(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}
std::optional<AuditJsonValue> FindMember(const AuditJsonValue& object, std::string_view key) {
  return object.Find(key);
}
// Calls fn(index, element) for each element of an array, in order, until fn fails.
template <typename F>
Status ForEachElement(const json& array, F&& fn) {
  for (std::size_t i = 0; i < array.size(); ++i) TEARLINE_RETURN_IF_ERROR(fn(i, array[i]));
  return Status::Ok();
}
template <typename F>
Status ForEachElement(const AuditJsonValue& array, F&& fn) {
  if (array.size() == 0) return Status::Ok();
  AuditJsonValue element = array.first_child();
  for (std::size_t i = 0;; element = element.next_sibling()) {
    TEARLINE_RETURN_IF_ERROR(fn(i, element));
    if (++i == array.size()) break;
  }
  return Status::Ok();
}

// Names the value being decoded in messages ("denied record field \"portion\"", "... [2]"): a
// chain of frames on the stack, rendered only when a message is needed, so that decoding a valid
// record builds no strings besides its values.
struct Where {
  const Where* parent = nullptr;
  std::string_view text;  // A root's record type ("accepted") or a field's key.
  std::size_t index = 0;  // An array element's index.
  enum { kRoot, kField, kIndex } kind = kRoot;

  std::string Render() const {
    switch (kind) {
      case kRoot:
        return std::string(text) + " record";
      case kField:
        return parent->Render() + " field \"" + std::string(text) + "\"";
      default:
        return parent->Render() + "[" + std::to_string(index) + "]";
    }
  }
};

template <typename T, typename V>
Status DecodeObject(const V& object, const Where& where, T& out);

// Decodes `value` into `out`; `where` names the value in messages ("denied record field
// \"portion\"").
template <typename M, typename V>
Status DecodeValue(const V& value, const Where& where, M& out) {
  const auto wrong = [&] {
    return Malformed(where.Render(),
                     std::string("must be ") + Expected<M>() + ", not " + value.type_name());
  };
  if constexpr (std::is_same_v<M, AuditTrueFlag>) {
    if (!value.is_boolean() || !GetBool(value)) return wrong();
  } else if constexpr (std::is_same_v<M, std::string>) {
    if (!value.is_string()) return wrong();
    GetString(value, out);
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    if (value.is_number_unsigned()) {
      const auto v = GetUnsigned(value);
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return wrong();
      out = static_cast<std::int64_t>(v);
    } else if (value.is_number_integer()) {
      out = GetSigned(value);
    } else {
      return wrong();
    }
  } else if constexpr (std::is_integral_v<M>) {
    static_assert(std::is_unsigned_v<M>);
    // Parsed text gives unsigned numbers; an object built in memory may hold signed ones.
    std::uint64_t v = 0;
    if (value.is_number_unsigned()) {
      v = GetUnsigned(value);
    } else if (value.is_number_integer() && GetSigned(value) >= 0) {
      v = static_cast<std::uint64_t>(GetSigned(value));
    } else {
      return wrong();
    }
    if (v > std::numeric_limits<M>::max()) return wrong();
    out = static_cast<M>(v);
  } else if constexpr (IsVector<M>::value) {
    if (!value.is_array()) return wrong();
    // Elements left from an earlier decode are overwritten in place (every member is assigned
    // or reset), keeping their buffers.
    out.resize(value.size());
    const Status elements = ForEachElement(value, [&](std::size_t i, const V& element_value) {
      const Where element_where{&where, {}, i, Where::kIndex};
      return DecodeValue(element_value, element_where, out[i]);
    });
    if (!elements.ok()) return elements;
  } else {
    if (!value.is_object()) return wrong();
    TEARLINE_RETURN_IF_ERROR(DecodeObject(value, where, out));
  }
  return Status::Ok();
}

// The value of each schema field of T in `object` (keys are unique in both value models).
template <typename T, std::size_t... I>
auto LookupFields(const json& object, std::index_sequence<I...>) {
  return std::array<const json*, sizeof...(I)>{
      FindMember(object, std::get<I>(AuditRecordSchema<T>::kFields).key)...};
}
// One pass over the members, each key compared with T's keys (constants), instead of one search
// of the object per field.
template <typename T, std::size_t... I>
auto LookupFields(const AuditJsonValue& object, std::index_sequence<I...>) {
  std::array<std::optional<AuditJsonValue>, sizeof...(I)> found;
  if (object.size() == 0) return found;
  AuditJsonValue member = object.first_child();
  for (std::size_t m = 0;; member = member.next_sibling()) {
    const std::string_view key = member.key();
    ((key == std::get<I>(AuditRecordSchema<T>::kFields).key ? (found[I] = member, 0) : 0), ...);
    if (++m == object.size()) break;
  }
  return found;
}

template <typename T, typename V, std::size_t... I>
Status DecodeFields(const V& object, const Where& where, T& out, std::index_sequence<I...> seq) {
  const auto found = LookupFields<T>(object, seq);
  Status status = Status::Ok();
  const auto get = [&](const auto& f, const auto& value) {
    if (!status.ok()) return;
    auto& member = out.*(f.member);
    using Member = std::decay_t<decltype(member)>;
    if (!value) {
      if constexpr (IsOptional<Member>::value) {
        member.reset();
      } else {
        status = Malformed(Where{&where, f.key, 0, Where::kField}.Render(), "is missing");
      }
      return;
    }
    const Where field_where{&where, f.key, 0, Where::kField};
    if constexpr (IsOptional<Member>::value) {
      if (!member) member.emplace();
      if (Status st = DecodeValue(*value, field_where, *member); !st.ok()) status = std::move(st);
    } else {
      // Assigned only on failure: copying an OK status per field is measurable in the verifier.
      if (Status st = DecodeValue(*value, field_where, member); !st.ok()) status = std::move(st);
    }
  };
  (get(std::get<I>(AuditRecordSchema<T>::kFields), found[I]), ...);
  return status;
}

template <typename T, typename V>
Status DecodeObject(const V& object, const Where& where, T& out) {
  return DecodeFields(
      object, where, out,
      std::make_index_sequence<std::tuple_size_v<decltype(AuditRecordSchema<T>::kFields)>>{});
}

// The index of T among AnyAuditRecord's alternatives.
template <typename T, typename... A>
constexpr std::size_t AlternativeIndex(std::type_identity<std::variant<A...>>) {
  std::size_t i = 0;
  const bool found = ((std::is_same_v<T, A> ? true : (++i, false)) || ...);
  return found ? i : sizeof...(A);
}
template <typename T>
inline constexpr std::size_t kAlternative =
    AlternativeIndex<T>(std::type_identity<AnyAuditRecord>{});

// Decodes into the slot of the record's type (slots[i] holds alternative i), so that every
// buffer of the previous record of that type is reused; `which` is set to that slot.
template <typename V>
Status DecodeIntoSlots(std::string_view type, const V& object, std::vector<AnyAuditRecord>& slots,
                       std::size_t& which) {
  if (!object.is_object()) {
    return Malformed(std::string(type) + " record", "is not a JSON object");
  }
  const auto decode = [&]<typename T>(std::type_identity<T>) {
    which = kAlternative<T>;
    return DecodeObject(object, Where{nullptr, T::kType, 0, Where::kRoot},
                        std::get<T>(slots[which]));
  };
  const auto from_queue = [&] {
    return static_cast<bool>(FindMember(object, DeliveredFromQueueRecord::kFromQueueKey));
  };
  if (type == DeliveredRecord::kType) {
    if (from_queue()) return decode(std::type_identity<DeliveredFromQueueRecord>{});
    return decode(std::type_identity<DeliveredRecord>{});
  }
  if (type == QueuedRecord::kType && from_queue()) {
    // Only a delivery can come from the queue; a queued record claiming it is contradictory.
    return Malformed(
        "queued record field \"" + std::string(DeliveredFromQueueRecord::kFromQueueKey) + "\"",
        "is only valid on delivered records");
  }
  // Every other type name belongs to exactly one alternative.
  std::optional<Status> result;
  const auto try_type = [&]<typename T>(std::type_identity<T>) {
    if (!result && T::kType == type) result = decode(std::type_identity<T>{});
  };
  [&]<typename... T>(std::type_identity<std::variant<T...>>) {
    (try_type(std::type_identity<T>{}), ...);
  }(std::type_identity<AnyAuditRecord>{});
  if (result) return std::move(*result);
  return NotFound("AUDIT_RECORD_UNKNOWN_TYPE",
                  "record type \"" + std::string(type) + "\" is not one this version knows");
}

// DecodeAuditRecord over either value model: a fresh decoder, its record copied out.
template <typename V>
Result<AnyAuditRecord> DecodeAny(std::string_view type, const V& object) {
  AuditRecordDecoder decoder;
  const AnyAuditRecord* record = nullptr;
  TEARLINE_RETURN_IF_ERROR(decoder.Decode(type, object, record));
  return *record;
}

template <typename Member>
void View(const Member& member, std::optional<std::string_view>& out) {
  if constexpr (IsOptional<Member>::value) {
    if (member) out = *member;
  } else {
    out = member;
  }
}

}  // namespace

bool IsKnownAuditRecordType(std::string_view type) {
  for (std::string_view t : kAuditRecordTypes) {
    if (t == type) return true;
  }
  return false;
}

AuditRecordDecoder::AuditRecordDecoder() {
  // One slot per alternative, each holding its own type.
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (slots_.emplace_back(std::in_place_index<I>), ...);
  }
  (std::make_index_sequence<std::variant_size_v<AnyAuditRecord>>{});
}

Status AuditRecordDecoder::Decode(std::string_view type, const AuditJsonValue& object,
                                  const AnyAuditRecord*& out) {
  std::size_t which = 0;
  TEARLINE_RETURN_IF_ERROR(DecodeIntoSlots(type, object, slots_, which));
  out = &slots_[which];
  return Status::Ok();
}

Status AuditRecordDecoder::Decode(std::string_view type, const nlohmann::json& object,
                                  const AnyAuditRecord*& out) {
  std::size_t which = 0;
  TEARLINE_RETURN_IF_ERROR(DecodeIntoSlots(type, object, slots_, which));
  out = &slots_[which];
  return Status::Ok();
}

Status AuditRecordDecoder::Decode(const AuditRecord& record, const AnyAuditRecord*& out) {
  return Decode(record.type, record.object(), out);
}

std::string_view AuditRecordTypeName(const AnyAuditRecord& record) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kType; }, record);
}

json ToJson(const AnyAuditRecord& record) {
  return std::visit([](const auto& r) { return EncodeObject(r); }, record);
}

Result<AnyAuditRecord> DecodeAuditRecord(std::string_view type, const json& object) {
  return DecodeAny(type, object);
}

Result<AnyAuditRecord> DecodeAuditRecord(std::string_view type, const AuditJsonValue& object) {
  return DecodeAny(type, object);
}

Result<AnyAuditRecord> DecodeAuditRecord(const AuditRecord& record) {
  return DecodeAny(record.type, record.object());
}

AuditRecordKeys KeysOf(const AnyAuditRecord& record) {
  AuditRecordKeys keys;
  std::visit(
      [&](const auto& r) {
        if constexpr (requires { r.report_id; }) View(r.report_id, keys.report_id);
        if constexpr (requires { r.originator; }) View(r.originator, keys.originator);
        if constexpr (requires { r.originator_nation; }) {
          View(r.originator_nation, keys.originator_nation);
        }
        if constexpr (requires { r.recipient; }) View(r.recipient, keys.recipient);
        if constexpr (requires { r.nation; }) View(r.nation, keys.nation);
        if constexpr (requires { r.node; }) View(r.node, keys.node);
        if constexpr (requires { r.reason; }) View(r.reason, keys.reason);
        if constexpr (requires { r.portions; }) {
          for (const auto& p : r.portions) keys.labels.push_back(p.label);
        }
      },
      record);
  return keys;
}

}  // namespace tearline
