#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/data/sampler.h"
#include "wbary/nn/icnn.h"

namespace wbary::nn {
namespace {

struct Variant {
  IcnnActivation activation;
  bool square_first;
  bool skip;
  int64_t layers;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (auto act : {IcnnActivation::kCelu, IcnnActivation::kPrelu}) {
    for (bool sq : {true, false}) {
      for (bool skip : {true, false}) {
        for (int64_t layers : {1, 2, 3}) v.push_back({act, sq, skip, layers});
      }
    }
  }
  return v;
}

IcnnPotential make(const Variant& v, int64_t count, int64_t dim, int64_t width, uint64_t seed) {
  IcnnConfig cfg;
  cfg.activation = v.activation;
  cfg.square_first_layer = v.square_first;
  cfg.quadratic_skip = v.skip;
  cfg.hidden_layers = v.layers;
  cfg.width = width;
  at::Generator gen = data::make_generator(seed);
  return IcnnPotential(count, dim, cfg, gen, at::kDouble);
}

TEST(Icnn, ClosedFormGradientEqualsAutograd) {
  // float64: both compute the same sums in a different order, so agreement
  // is at round-off level; 1e-10 relative leaves room for width-64 sums.
  for (const auto& v : variants()) {
    for (auto [count, dim, width, batch] : std::vector<std::array<int64_t, 4>>{{3, 2, 8, 17}, {1, 1, 1, 1}, {2, 5, 7, 4}}) {
      IcnnPotential f = make(v, count, dim, width, 42 + dim);
      {  // PReLU slopes away from their initial value, so that the slope path is exercised.
        torch::NoGradGuard ng;
        for (auto& p : f.named_parameters()) {
          if (p.key().rfind("slope", 0) == 0) p.value().uniform_(0.05, 0.9);
        }
      }
      const at::Tensor x = at::randn({count, batch, dim}, at::kDouble);
      const at::Tensor reference = f.gradient_autograd(x, false);
      EXPECT_LT(testing::relative_error(f.gradient(x), reference), 1e-10)
          << "layers " << v.layers << " square " << v.square_first << " skip " << v.skip;
    }
  }
}

TEST(Icnn, StackedNetworksAreIndependentAndSelectable) {
  IcnnPotential f = make({IcnnActivation::kCelu, true, true, 3}, 3, 4, 6, 1);
  const at::Tensor x = at::randn({3, 10, 4}, at::kDouble);
  const at::Tensor all = f.gradient(x);
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_LT(testing::relative_error(f.gradient_of(k, x[k]), all[k]), 1e-12);
    EXPECT_LT(testing::relative_error(f.value_of(k, x[k]), f.value(x)[k].detach()), 1e-12);
  }
}

TEST(Icnn, ConvexAlongRandomLinesWhenWeightsAreNonNegative) {
  // Guaranteed convex variants (Amos et al. 2017): convex non-decreasing
  // activations after the first layer, W >= 0. PReLU with slope in [0, 1]
  // squared is convex; CELU squared is not (below p = -ln 2), so the
  // authors' default is only approximately convex and tested separately.
  for (const auto& v : variants()) {
    if (v.activation == IcnnActivation::kCelu && v.square_first) continue;
    IcnnPotential f = make(v, 2, 3, 16, 7);
    f.clamp_convex_weights();
    const at::Tensor x0 = at::randn({2, 64, 3}, at::kDouble) * 2;
    const at::Tensor dir = at::randn({2, 64, 3}, at::kDouble);
    at::Tensor prev2, prev1;
    for (int k = 0; k <= 40; ++k) {
      const double t = -3.0 + 0.15 * k;
      const at::Tensor val = f.value(x0 + t * dir).detach();
      if (k >= 2) {
        // Second difference >= 0 up to round-off.
        const at::Tensor second = prev2 - 2 * prev1 + val;
        EXPECT_GE(second.min().item<double>(), -1e-9);
      }
      prev2 = prev1;
      prev1 = val;
    }
  }
}

TEST(Icnn, ClampRemovesEveryConvexityViolation) {
  IcnnPotential f = make({IcnnActivation::kCelu, true, true, 3}, 2, 2, 8, 3);
  EXPECT_GT(f.convexity_violation().item<double>(), 0);  // Kaiming init has negative weights
  f.clamp_convex_weights();
  EXPECT_EQ(f.convexity_violation().item<double>(), 0);
}

}  // namespace
}  // namespace wbary::nn
