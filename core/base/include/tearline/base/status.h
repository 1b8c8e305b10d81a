// Status and Result<T>: the error currency at every Tearline module boundary.
//
// A Status carries three things:
//   - a coarse Code, for programs deciding what to do (retry, reject, abort);
//   - a stable machine-readable reason (e.g. "LABEL_UNKNOWN_CODE"), which is what goes on the
//     wire, into the audit log and into `DENY <CODE>` lines; reasons never change meaning once
//     published;
//   - a sentence a person understands, naming the offending token or rule.
//
// Both types are [[nodiscard]] so an ignored failure is a compile error under -Werror.
// Thread-safety: values; distinct objects may be used concurrently, shared ones only for reading.
#ifndef TEARLINE_STATUS_H_
#define TEARLINE_STATUS_H_

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace tearline {

enum class Code : int {
  kOk = 0,
  kInvalidArgument,    // The caller's input is malformed or violates a rule.
  kNotFound,           // A named thing (file, node, report) does not exist.
  kPermissionDenied,   // Refused by policy, ownership or file permissions.
  kUnauthenticated,    // Signature, certificate or key did not verify.
  kExpired,            // Validity window has passed (or not yet begun).
  kAlreadyExists,      // Duplicate (report id, file that must not be overwritten).
  kResourceExhausted,  // A size, queue or rate limit was hit.
  kUnavailable,        // Peer or service not reachable now; retrying may help.
  kIoError,            // The operating system refused a read or write.
  kInternal,           // A bug or a failed library call that should not happen.
};

// Name of a code, e.g. "INVALID_ARGUMENT".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Stable reason code; empty for OK.
  const std::string& reason() const { return reason_; }
  // Human sentence; empty for OK.
  const std::string& message() const { return message_; }

  // "REASON: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: ` (reason and code unchanged).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.reason_ == b.reason_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
};

// Either a T or a non-OK Status (in the spirit of absl::StatusOr).
// Accessing value() of a failed Result aborts: it is a programming error, not input validation.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> is meaningless");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) {
      v_.template emplace<1>(Code::kInternal, "INTERNAL",
                             "a Result was built from an OK status without a value");
    }
  }

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(v_);
  }

  T& value() & { return Checked(), std::get<0>(v_); }
  const T& value() const& { return Checked(), std::get<0>(v_); }
  T&& value() && { return Checked(), std::move(std::get<0>(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Checked() const {
    if (!ok()) std::abort();
  }
  std::variant<T, Status> v_;
};

// Convenience constructors for the common codes.
inline Status InvalidArgument(std::string reason, std::string message) {
  return {Code::kInvalidArgument, std::move(reason), std::move(message)};
}
inline Status NotFound(std::string reason, std::string message) {
  return {Code::kNotFound, std::move(reason), std::move(message)};
}
inline Status PermissionDenied(std::string reason, std::string message) {
  return {Code::kPermissionDenied, std::move(reason), std::move(message)};
}
inline Status Unauthenticated(std::string reason, std::string message) {
  return {Code::kUnauthenticated, std::move(reason), std::move(message)};
}
inline Status IoError(std::string reason, std::string message) {
  return {Code::kIoError, std::move(reason), std::move(message)};
}
inline Status Internal(std::string reason, std::string message) {
  return {Code::kInternal, std::move(reason), std::move(message)};
}

}  // namespace tearline

// Early-return helpers; keep call sites flat.
#define TEARLINE_CONCAT_INNER_(a, b) a##b
#define TEARLINE_CONCAT_(a, b) TEARLINE_CONCAT_INNER_(a, b)

#define TEARLINE_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::tearline::Status tearline_status_ = (expr);        \
    if (!tearline_status_.ok()) return tearline_status_; \
  } while (0)

#define TEARLINE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

#define TEARLINE_ASSIGN_OR_RETURN(lhs, expr) \
  TEARLINE_ASSIGN_OR_RETURN_IMPL_(TEARLINE_CONCAT_(tearline_result_, __LINE__), lhs, expr)

#endif  // TEARLINE_STATUS_H_
