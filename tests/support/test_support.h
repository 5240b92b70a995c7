// Shared helpers for wbary's tests: temporary directories and tolerances.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace wbary::testing {

/// A fresh empty directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// max |a - b| / max(1, max |b|).
double relative_error(const at::Tensor& a, const at::Tensor& b);

}  // namespace wbary::testing
