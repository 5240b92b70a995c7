// Partially input-convex potentials (nn/picnn.h): convex in x for every
// context, gradients against finite differences and autograd, and the
// chain rule of backward_effective against autograd through the whole net.
#include <gtest/gtest.h>

#include <torch/autograd.h>

#include "support/test_support.h"
#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/nn/icnn_kernels.h"
#include "wbary/nn/picnn.h"

namespace wbary::nn {
namespace {

// A PICNN whose context head is random (a fresh one starts at zero, i.e.
// as a plain ICNN, which would not exercise the context path).
PicnnPotential make(int64_t count, int64_t dim, int64_t m, uint64_t seed, IcnnActivation act = IcnnActivation::kCelu) {
  PicnnConfig cfg;
  cfg.convex.width = 8;
  cfg.convex.activation = act;
  cfg.convex.square_offset = 1;  // NWB-II's: convex (nn/icnn.h)
  cfg = resolved(cfg, dim, m);
  at::Generator gen = data::make_generator(seed);
  PicnnPotential f(count, dim, m, cfg, gen, at::kDouble);
  torch::NoGradGuard ng;
  f.context_parameters().copy_(at::randn(f.context_parameters().sizes(), gen, at::kDouble) * 0.5);
  for (auto& p : f.convex().parameters()) p.add_(at::rand(p.sizes(), gen, at::kDouble) * 0.1);
  f.clamp_convex_weights();
  return f;
}

at::Tensor random_weights(int64_t m, at::Generator& gen) {
  const at::Tensor g = at::rand({m}, gen, at::kDouble) + 0.05;
  return g / g.sum();
}

TEST(Picnn, ConvexInXAlongRandomLinesForRandomWeights) {
  at::Generator gen = data::make_generator(3);
  for (auto act : {IcnnActivation::kCelu, IcnnActivation::kPrelu}) {
    PicnnPotential f = make(2, 3, 3, 5, act);
    for (int trial = 0; trial < 20; ++trial) {
      const at::Tensor w = random_weights(3, gen);
      // f(x + t v) on a grid of t: second differences >= 0 (up to round-off).
      const at::Tensor x0 = at::randn({2, 1, 3}, gen, at::kDouble) * 2;
      const at::Tensor v = at::randn({2, 1, 3}, gen, at::kDouble);
      const at::Tensor t = at::linspace(-3, 3, 61, at::kDouble).view({1, -1, 1});
      const at::Tensor values = f.value(x0 + t * v, w).detach();  // [2, 61]
      const at::Tensor second = values.narrow(1, 0, 59) - 2 * values.narrow(1, 1, 59) + values.narrow(1, 2, 59);
      EXPECT_GT(second.min().item<double>(), -1e-10) << "trial " << trial;
    }
  }
}

TEST(Picnn, TheAuthorsSquaredCeluIsNotConvexTheOffsetOneIs) {
  // One unit: z = (celu(p) + offset)^2 with p = x. At offset 0 the second
  // derivative 2 e^p (2 e^p - 1) is negative for p < -ln 2 (the authors'
  // ICNN_LastInp_Quadratic, and NWB's default); at offset 1 it is 4 e^{2p}.
  const at::Tensor p = at::linspace(-4, -1, 31, at::kDouble);
  auto second_difference = [&](double offset) {
    const at::Tensor z = (at::celu(p) + offset).square();
    return (z.narrow(0, 0, 29) - 2 * z.narrow(0, 1, 29) + z.narrow(0, 2, 29)).min().item<double>();
  };
  EXPECT_LT(second_difference(0.0), 0.0);
  EXPECT_GT(second_difference(1.0), 0.0);
}

TEST(Picnn, GradientMatchesFiniteDifferencesAndAutograd) {
  PicnnPotential f = make(3, 2, 3, 7);
  at::Generator gen = data::make_generator(8);
  const at::Tensor w = random_weights(3, gen);
  const at::Tensor x = at::randn({3, 5, 2}, gen, at::kDouble);
  const at::Tensor g = f.gradient(x, w);
  // Central differences in float64: error ~ h^2 f''' ~ 1e-10 at h = 1e-5.
  const double h = 1e-5;
  at::Tensor fd = at::zeros_like(x);
  for (int64_t j = 0; j < 2; ++j) {
    at::Tensor e = at::zeros_like(x);
    e.select(2, j).fill_(h);
    fd.select(2, j).copy_(((f.value(x + e, w) - f.value(x - e, w)) / (2 * h)).detach());
  }
  EXPECT_LT(testing::relative_error(g, fd), 1e-7);
  const at::Tensor xr = x.clone().requires_grad_(true);
  const at::Tensor ag = torch::autograd::grad({f.value(xr, w).sum()}, {xr})[0];
  EXPECT_LT(testing::relative_error(g, ag), 1e-12);
  // Network k alone.
  EXPECT_LT(testing::relative_error(f.gradient_of(1, x[1], w), g[1]), 1e-12);
}

TEST(Picnn, BackwardEffectiveIsTheChainRuleOfAutograd) {
  // L = sum c . f(x; w): the kernels' gradient in the effective weights,
  // carried by backward_effective, against autograd through value().
  PicnnPotential f = make(2, 3, 3, 11);
  at::Generator gen = data::make_generator(12);
  const at::Tensor w = random_weights(3, gen);
  const at::Tensor x = at::randn({2, 6, 3}, gen, at::kDouble);
  const at::Tensor cot = at::randn({2, 6}, gen, at::kDouble);

  f.zero_grad();
  (cot * f.value(x, w)).sum().backward();
  f.gather_gradients();
  const at::Tensor want_convex = f.convex().flat_gradients().clone();
  const at::Tensor want_context = f.context_gradients().clone();

  const IcnnWeights e = f.effective(w);
  IcnnWeights grads;
  {
    torch::NoGradGuard ng;
    const IcnnTape tape = icnn_forward(f.icnn_config(), e, x);
    grads = icnn_value_parameter_gradient(f.icnn_config(), e, tape, cot);
  }
  f.backward_effective(e, grads);
  EXPECT_LT(testing::relative_error(f.convex().flat_gradients(), want_convex), 1e-12);
  EXPECT_LT(testing::relative_error(f.context_gradients(), want_context), 1e-12);
  EXPECT_GT(f.context_gradients().abs().max().item<double>(), 0) << "the context path should get a gradient";
}

TEST(Picnn, FreshNetworkIsItsConvexPath) {
  PicnnConfig cfg = resolved(PicnnConfig{}, 2, 3);
  at::Generator gen = data::make_generator(1);
  PicnnPotential f(2, 2, 3, cfg, gen, at::kDouble);
  const at::Tensor x = at::randn({2, 4, 2}, at::kDouble);
  const at::Tensor a = f.value(x, at::tensor({0.2, 0.3, 0.5}, at::kDouble));
  const at::Tensor b = f.value(x, at::tensor({1.0, 0.0, 0.0}, at::kDouble));
  EXPECT_LT(testing::relative_error(a, b), 1e-15);  // zero head: no dependence on w yet
  EXPECT_THROW(f.value(x, at::ones({2}, at::kDouble)), InvalidArgument);
}

}  // namespace
}  // namespace wbary::nn
