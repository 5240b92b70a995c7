// Partially input-convex potentials (nn/picnn.h): convex in x for every
// context, gradients against finite differences and autograd, and the
// chain rule of backward_effective against autograd through the whole net,
// and the closed-form context map (effective_into, backward_at) against both.
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

// A PICNN in `dtype` with a random head, some of whose z / output gates are
// shut (relu(1 + G u) = 0), so that relu's zero branch is exercised.
PicnnPotential make_gated(IcnnActivation act, at::ScalarType dtype, uint64_t seed) {
  PicnnConfig cfg;
  cfg.convex.width = 6;
  cfg.convex.hidden_layers = 3;
  cfg.convex.activation = act;
  cfg.convex.square_offset = 1;
  cfg = resolved(cfg, 3, 4);
  at::Generator gen = data::make_generator(seed);
  PicnnPotential f(3, 3, 4, cfg, gen, dtype);
  torch::NoGradGuard ng;
  // Head weights ~ N(0, 1.5^2): |G u| > 1 for a good share of the gates.
  f.context_parameters().copy_(at::randn(f.context_parameters().sizes(), gen, at::kDouble).mul(1.5).to(dtype));
  for (auto& p : f.convex().parameters()) p.add_(at::rand(p.sizes(), gen, at::kDouble).mul(0.1).to(dtype));
  f.clamp_convex_weights();
  return f;
}

TEST(Picnn, ClosedFormContextMapEqualsItsAutogradReference) {
  for (auto act : {IcnnActivation::kCelu, IcnnActivation::kPrelu}) {
    for (auto dtype : {at::kDouble, at::kFloat}) {
      SCOPED_TRACE(std::string(dtype == at::kDouble ? "float64" : "float32") +
                   (act == IcnnActivation::kCelu ? " CELU" : " PReLU"));
      // float64: both sides are the same sums in another order (1e-13);
      // float32: ~10 roundings of 6e-8 relative on either side (1e-5).
      const double tol = dtype == at::kDouble ? 1e-13 : 1e-5;
      PicnnPotential f = make_gated(act, dtype, 21);
      at::Generator gen = data::make_generator(22);
      const at::Tensor w = random_weights(4, gen);
      at::Generator unused = data::make_generator(0);
      IcnnPotential scratch(3, 3, f.icnn_config(), unused, dtype);
      f.effective_into(w, scratch);
      IcnnWeights want;
      {
        torch::NoGradGuard ng;
        want = f.effective(w);
      }
      EXPECT_LT(testing::relative_error(at::cat({want.W[0].flatten(), want.W[1].flatten(), want.w.flatten()}),
                                        at::cat({scratch.weights().W[0].flatten(), scratch.weights().W[1].flatten(),
                                                 scratch.weights().w.flatten()})),
                tol);
      // Gates really shut somewhere, and everything else equal too.
      EXPECT_GT((scratch.weights().W[1].abs().sum(1) == 0).sum().item<int64_t>(), 0);  // a whole column: a gate
      IcnnPotential reference(3, 3, f.icnn_config(), unused, dtype);
      copy_gradients(want, reference.weights());
      EXPECT_LT(testing::relative_error(scratch.flat_parameters(), reference.flat_parameters()), tol);

      // backward_at against backward_effective (autograd) for a random dL/d effective.
      const at::Tensor cotangent = at::randn(scratch.flat_gradients().sizes(), gen, at::kDouble).to(dtype);
      scratch.flat_gradients().copy_(cotangent);
      f.backward_effective(f.effective(w), scratch.gradient_views());
      const at::Tensor want_convex = f.convex().flat_gradients().clone();
      const at::Tensor want_context = f.context_gradients().clone();
      f.convex().flat_gradients().fill_(7);  // must be overwritten, not accumulated
      f.context_gradients().fill_(7);
      f.backward_at(w, scratch.gradient_views());
      EXPECT_LT(testing::relative_error(f.convex().flat_gradients(), want_convex), tol);
      EXPECT_LT(testing::relative_error(f.context_gradients(), want_context), tol);
      EXPECT_GT(want_context.abs().max().item<double>(), 0);
    }
  }
  PicnnPotential f = make(2, 3, 3, 1);
  at::Generator unused = data::make_generator(0);
  IcnnPotential wrong(2, 2, f.icnn_config(), unused, at::kDouble);
  EXPECT_THROW(f.effective_into(at::tensor({0.2, 0.3, 0.5}, at::kDouble), wrong), InvalidArgument);
  EXPECT_THROW(f.backward_at(at::ones({2}, at::kDouble), f.convex().gradient_views()), InvalidArgument);
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
