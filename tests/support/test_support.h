// Shared helpers for wbary's tests: temporary directories and tolerances.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "wbary/barycenter/problem.h"

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

/// The problem of the marginals given as specs ("gaussian:dim=2,seed=1", ...),
/// with these weights (empty: uniform once validated).
barycenter::BarycenterProblem problem_of(const std::vector<std::string>& specs, std::vector<double> weights = {});

/// max |a - b| / max(1, max |b|).
double relative_error(const at::Tensor& a, const at::Tensor& b);

}  // namespace wbary::testing
