// Status and Result: errors as values at module boundaries.
//
// A Status is either OK or carries a code and a human-readable message that
// names the offending value and, where it helps, what would have been valid.
// Result<T> holds either a T or a non-OK Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lplex {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller passed something that can never work
    kNotFound,
    kAlreadyExists,
    kCorruption,       // bytes on disk (or on the wire) do not follow the format
    kIOError,          // the operating system refused (errno text in message)
    kOutOfRange,
    kUnsupported,
  };

  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  // An IOError whose message ends in ": " + strerror(err).
  static Status FromErrno(std::string_view context, int err);
  static Status OutOfRange(std::string msg) { return Status(Code::kOutOfRange, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsIOError() const { return code_ == Code::kIOError; }

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with "context: ".
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or an error. Accessing value() of an error is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace lplex

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define LPLEX_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::lplex::Status lplex_status_ = (expr);      \
    if (!lplex_status_.ok()) return lplex_status_; \
  } while (0)

// Evaluates `expr` (a Result<T>); on error returns its Status from the
// enclosing function (which returns Status or any Result<U>), otherwise
// moves the value into `lhs`, which may declare a variable:
//   LPLEX_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
//   LPLEX_ASSIGN_OR_RETURN(size, file->Size());
// It expands to several statements, so it cannot be the body of an
// unbraced if/else. `expr` may contain commas; `lhs` may not (no structured
// bindings: assign to one variable and unpack it on the next line).
#define LPLEX_ASSIGN_OR_RETURN(lhs, ...) \
  LPLEX_ASSIGN_OR_RETURN_IMPL_(LPLEX_STATUS_CONCAT_(lplex_result_, __COUNTER__), lhs, __VA_ARGS__)

#define LPLEX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, ...) \
  auto tmp = (__VA_ARGS__);                         \
  if (!tmp.ok()) return tmp.status();               \
  lhs = ::std::move(tmp).value()

#define LPLEX_STATUS_CONCAT_INNER_(a, b) a##b
#define LPLEX_STATUS_CONCAT_(a, b) LPLEX_STATUS_CONCAT_INNER_(a, b)
