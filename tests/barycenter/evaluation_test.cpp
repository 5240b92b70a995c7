// The exact discrete barycenter and the UVP the shapes are scored with,
// against closed forms: the barycenter of a cloud and its translate is the
// cloud moved by the weighted shift, and W2^2 between a cloud and its
// translate by c is |c|^2.
#include <gtest/gtest.h>

#include "wbary/barycenter/evaluation.h"
#include "wbary/error.h"

namespace wbary::barycenter {
namespace {

at::Tensor cloud(int64_t n, int64_t d, uint64_t seed) {
  at::Generator gen = data::make_generator(seed);
  return at::randn({n, d}, gen, at::kDouble);
}

double variance(const at::Tensor& x) { return (x - x.mean(0)).square().sum(1).mean().item<double>(); }

TEST(DiscreteBarycenter, TwoInputsIsTheWeightedDisplacement) {
  const at::Tensor x = cloud(300, 2, 1), shift = at::tensor({3.0, -1.0}, at::kDouble);
  const at::Tensor y = x.index_select(0, at::randperm(300, at::kLong)) + shift;  // shuffled translate
  for (double a : {0.5, 0.25}) {
    std::string method;
    const auto [points, mass] = discrete_barycenter({x, y}, {a, 1 - a}, &method);
    EXPECT_NE(method.find("exact"), std::string::npos);
    EXPECT_NEAR(mass.sum().item<double>(), 1.0, 1e-12);
    // The translate's optimal plan is the identity matching, so the
    // barycenter is x + (1 - a) shift, point for point: UVP 0 up to round-off.
    EXPECT_LT(w2_uvp(x + (1 - a) * shift, points, mass), 1e-10) << a;
  }
}

TEST(DiscreteBarycenter, UvpOfATranslateIsItsSquaredShiftOverTheVariance) {
  const at::Tensor x = cloud(200, 3, 2), c = at::tensor({0.3, 0.0, -0.4}, at::kDouble);
  const at::Tensor mass = at::full({200}, 1.0 / 200, at::kDouble);
  // W2^2(x + c, x) = |c|^2 = 0.25 (translations are optimal for W2).
  EXPECT_NEAR(w2_uvp(x + c, x, mass), 100 * 0.25 / variance(x), 1e-9);
  EXPECT_NEAR(w2_uvp(x, x, mass), 0.0, 1e-12);
}

TEST(DiscreteBarycenter, ThreeInputsByFreeSupport) {
  // Three translates of one cloud: the barycenter is the cloud moved by the
  // weighted mean shift, which the free-support iterations reach exactly
  // (every plan is the identity matching from the first step).
  const at::Tensor x = cloud(150, 2, 3);
  const at::Tensor s1 = at::tensor({2.0, 0.0}, at::kDouble), s2 = at::tensor({0.0, 4.0}, at::kDouble);
  std::string method;
  const auto [points, mass] = discrete_barycenter({x, x + s1, x + s2}, {0.2, 0.3, 0.5}, &method);
  EXPECT_NE(method.find("free-support"), std::string::npos);
  EXPECT_LT(w2_uvp(x + 0.3 * s1 + 0.5 * s2, points, mass), 1e-8);
}

TEST(DiscreteBarycenter, BadInputIsRefused) {
  const at::Tensor x = cloud(10, 2, 4);
  EXPECT_THROW(discrete_barycenter({x, x}, {1.0}), InvalidArgument);
  EXPECT_THROW(discrete_barycenter({}, {}), InvalidArgument);
}

}  // namespace
}  // namespace wbary::barycenter
