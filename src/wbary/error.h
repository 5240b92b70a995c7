// File: wbary/error.h
//
// The exceptions every layer of wbary throws. Each carries a message that
// names the offending input (a file, a flag, a value) and what was expected,
// so that the CLI can print it verbatim and exit non-zero.
//
// Example:
//   throw wbary::InvalidArgument("--batch-size: got 0, expected > 0");
#pragma once

#include <stdexcept>
#include <string>

namespace wbary {

/// Base class of all wbary errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A value (flag, config field, tensor shape, weight) is outside its domain.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file is missing, unreadable, malformed or could not be written.
class IoError : public Error {
 public:
  using Error::Error;
};

/// Training produced a non-finite loss or parameter (e.g. a learning rate
/// too large for the problem's scale).
class DivergenceError : public Error {
 public:
  using Error::Error;
};

}  // namespace wbary
