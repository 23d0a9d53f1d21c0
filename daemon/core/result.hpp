// Errors are values. std::expected is C++23 and g++ 12 lacks it, so this is a
// small stand-in with the same names (has_value, value, error, operator bool)
// that can be swapped for std::expected later without touching callers.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace mfcd::core {

// Kinds of failure. Each maps 1:1 to a JSON-RPC error code in rpc/errors.hpp,
// and to a sysexits code where the daemon must exit.
enum class Errc {
  invalid_argument,   // bad address, prefix, TTL, unknown keyword ...
  not_found,          // no such route / join / interface
  interface_unknown,  // interface named over the API does not exist
  vif_table_full,     // MAXVIFS (32) reached in a family/table
  kernel,             // the kernel refused (errno in Error::sys_errno)
  permission,         // caller or process lacks the right
  config,             // config file has errors (see Diagnostic lists)
  conflict,           // request contradicts existing state
  limit,              // a documented bound was exceeded
  internal,           // a bug
};

struct Error {
  Errc code = Errc::internal;
  std::string message;  // what a user can act on, no trailing period
  int sys_errno = 0;    // set for Errc::kernel and OS failures
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string message, int sys_errno = 0) {
  return Error{code, std::move(message), sys_errno};
}

}  // namespace mfcd::core
