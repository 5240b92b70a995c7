#include "support/test_support.h"

#include <filesystem>
#include <random>

namespace wbary::testing {
namespace {

// Every test binary draws its random inputs (at::randn, at::rand) from
// LibTorch's default generator: seed it once, before any test, so runs repeat.
const bool seeded = [] {
  at::manual_seed(20261125);
  return true;
}();

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  path_ = (std::filesystem::temp_directory_path() / ("wbary_test_" + std::to_string(rd()))).string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() / scale;
}

}  // namespace wbary::testing
