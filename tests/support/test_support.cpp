#include "support/test_support.h"

#include "wbary/data/spec.h"

#include <chrono>
#include <filesystem>

#include <ftw.h>
#include <unistd.h>

#include <cstdio>

namespace wbary::testing {

barycenter::BarycenterProblem problem_of(const std::vector<std::string>& specs, std::vector<double> weights) {
  barycenter::BarycenterProblem p;
  for (const auto& s : specs) {
    p.specs.push_back(s);
    p.marginals.push_back(data::make_sampler(s));
  }
  p.weights = std::move(weights);
  return p;
}
namespace {

// Every test binary draws its random inputs (at::randn, at::rand) from
// LibTorch's default generator: seed it once, before any test, so runs repeat.
const bool seeded = [] {
  at::manual_seed(20261125);
  return true;
}();

}  // namespace

TempDir::TempDir() {
  // Unique per process and per call, without std::random_device (which reads
  // a hardware or kernel entropy source some sandboxes lack).
  static int counter = 0;
  const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  path_ = (std::filesystem::temp_directory_path() / ("wbary_test_" + std::to_string(getpid()) + "_" +
                                                     std::to_string(counter++) + "_" + std::to_string(ticks)))
              .string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  // POSIX nftw, not std::filesystem::remove_all: pip's LibTorch 2.x
  // (libtorch.so) exports its own copy of remove_all, which interposes
  // libstdc++'s and jumps to a null pointer (seen with torch 2.11+cu130).
  nftw(
      path_.c_str(),
      [](const char* file, const struct stat*, int, struct FTW*) { return ::remove(file); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() / scale;
}

}  // namespace wbary::testing
