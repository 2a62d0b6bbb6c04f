// The one error model of the C++ API: every fallible call returns a Status or a Result<T>.
// The Python bindings turn a failed Status into the omendb exception named by its code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace omendb {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // a malformed argument (NaN, empty id, k <= 0, lengths that disagree, ...)
  kDimensionMismatch,  // a vector whose length is not the collection's dimension
  kDuplicateId,        // an id that exists already or repeats within a batch
  kNotFound,           // a collection that does not exist
  kClosed,             // the database was closed
  kNotSupported,       // a feature this build does not provide yet
  kIoError,      // the operating system refused a file operation (full disk, permissions, ...)
  kCorruption,   // stored data failed a check (magic, version, length or checksum)
  kLocked,       // another process holds the database's write lock
  kReadOnly,     // a write on a database opened read-only
  kFilterError,  // a malformed filter (unknown operator, wrong operand, syntax error, ...)
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message)};
  }

  bool is_ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that says why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Status status) : state_(std::move(status)) {}  // NOLINT; precondition: !status.is_ok()

  bool is_ok() const noexcept { return std::holds_alternative<T>(state_); }
  // Precondition: is_ok().
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  // The failure; Status::ok() when there is a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace omendb
