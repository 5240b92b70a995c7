#include <gtest/gtest.h>

#include <torch/autograd.h>

#include "support/test_support.h"
#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/nn/icnn_kernels.h"

namespace wbary::nn {
namespace {

struct Case {
  IcnnActivation activation;
  bool square_first;
  bool skip;
  int64_t layers, count, dim, width, batch;
  double offset = 0;  // IcnnConfig::square_offset
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (auto act : {IcnnActivation::kCelu, IcnnActivation::kPrelu}) {
    for (bool sq : {true, false}) {
      for (bool skip : {true, false}) {
        out.push_back({act, sq, skip, 3, 3, 2, 8, 17});
        out.push_back({act, sq, skip, 1, 1, 1, 1, 1});  // width 1, d = 1, batch 1
        out.push_back({act, sq, skip, 2, 2, 5, 7, 3});  // odd sizes
        out.push_back({act, sq, skip, 4, 1, 3, 1, 5});  // width 1, deeper
        if (sq) out.push_back({act, sq, skip, 3, 2, 3, 6, 9, 1.0});  // the convex square (NWB-II)
      }
    }
  }
  return out;
}

IcnnPotential make(const Case& c, at::ScalarType dtype, uint64_t seed) {
  IcnnConfig cfg;
  cfg.activation = c.activation;
  cfg.square_first_layer = c.square_first;
  cfg.square_offset = c.offset;
  cfg.quadratic_skip = c.skip;
  cfg.hidden_layers = c.layers;
  cfg.width = c.width;
  at::Generator gen = data::make_generator(seed);
  IcnnPotential f(c.count, c.dim, cfg, gen, dtype);
  torch::NoGradGuard ng;
  for (auto& p : f.named_parameters()) {
    if (p.key().rfind("slope", 0) == 0) p.value().uniform_(0.05, 0.9);  // exercise the slope path
  }
  return f;
}

// Flattens the kernel's gradients in the module's parameter order.
std::vector<at::Tensor> flatten(const IcnnPotential& f, const IcnnWeights& g) {
  std::vector<at::Tensor> out;
  const IcnnWeights& w = f.weights();
  for (const auto& p : f.named_parameters()) {
    const at::Tensor& t = p.value();
    auto pick = [&](const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads) -> at::Tensor {
      for (size_t k = 0; k < params.size(); ++k) {
        if (params[k].is_same(t)) return grads[k];
      }
      return at::Tensor();
    };
    at::Tensor found;
    for (auto [ps, gs] : {std::pair{&w.A, &g.A}, {&w.b, &g.b}, {&w.W, &g.W}, {&w.slope, &g.slope}}) {
      if (!found.defined()) found = pick(*ps, *gs);
    }
    if (!found.defined() && w.w.is_same(t)) found = g.w;
    if (!found.defined() && w.a.is_same(t)) found = g.a;
    if (!found.defined() && w.c.is_same(t)) found = g.c;
    out.push_back(found);
  }
  return out;
}

void expect_close(const std::vector<at::Tensor>& got, const std::vector<at::Tensor>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_TRUE(got[k].defined()) << what << " parameter " << k << " has no gradient";
    EXPECT_EQ(got[k].sizes(), want[k].sizes()) << what << " parameter " << k;
    EXPECT_LT(testing::relative_error(got[k], want[k]), tol) << what << " parameter " << k;
  }
}

// Autograd's parameter gradient; a parameter the output does not depend on
// (e.g. a bias under a piecewise-linear activation, for the directional
// derivative) gets zeros.
std::vector<at::Tensor> reference_gradient(const at::Tensor& out, const std::vector<at::Tensor>& params) {
  auto g = torch::autograd::grad({out}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                 /*allow_unused=*/true);
  for (size_t k = 0; k < g.size(); ++k) {
    if (!g[k].defined()) g[k] = at::zeros_like(params[k]);
  }
  return g;
}

void check_case(const Case& c, at::ScalarType dtype, double tol) {
  IcnnPotential f = make(c, dtype, 100 + c.dim + c.layers);
  const auto opts = at::TensorOptions().dtype(dtype);
  const at::Tensor x = at::randn({c.count, c.batch, c.dim}, opts);
  const at::Tensor cot = at::randn({c.count, c.batch}, opts);
  const at::Tensor v = at::randn({c.count, c.batch, c.dim}, opts);
  const std::string tag = std::string(c.activation == IcnnActivation::kCelu ? "celu" : "prelu") +
                          " sq=" + std::to_string(c.square_first) + " skip=" + std::to_string(c.skip) +
                          " L=" + std::to_string(c.layers) + " H=" + std::to_string(c.width);

  IcnnTape tape = icnn_forward(f.config(), f.weights(), x);
  EXPECT_LT(testing::relative_error(tape.value, f.value(x).detach()), tol) << tag;
  icnn_backward_gradient(f.config(), f.weights(), tape);
  EXPECT_LT(testing::relative_error(tape.gradient, f.gradient_autograd(x, false)), tol) << tag;

  // f-step: parameter gradient of sum c * f(x).
  auto value_ref = reference_gradient((cot * f.value(x)).sum(), f.parameters());
  expect_close(flatten(f, icnn_value_parameter_gradient(f.config(), f.weights(), tape, cot)), value_ref, tol,
               "value " + tag);

  // g-step: parameter gradient of sum v . grad f(x), against double backward.
  auto dir_ref = reference_gradient((v * f.gradient_autograd(x, true)).sum(), f.parameters());
  at::Tensor hessian_vector;
  expect_close(flatten(f, icnn_directional_parameter_gradient(f.config(), f.weights(), tape, v, &hessian_vector)),
               dir_ref, tol, "directional " + tag);

  // The same sweep's input gradient: Hess f(x) v, against double backward in x.
  const at::Tensor xr = x.detach().requires_grad_(true);
  const at::Tensor grad = torch::autograd::grad({f.value(xr).sum()}, {xr}, {}, true, true)[0];
  // A piecewise-linear network (PReLU, no squaring, no skip) has no x in its
  // gradient's graph: Hessian zero.
  at::Tensor hv_ref = torch::autograd::grad({(v * grad).sum()}, {xr}, {}, false, false, /*allow_unused=*/true)[0];
  if (!hv_ref.defined()) hv_ref = at::zeros_like(x);
  ASSERT_TRUE(hessian_vector.defined()) << tag;
  EXPECT_LT(testing::relative_error(hessian_vector, hv_ref), tol) << "Hessian-vector " << tag;
}

TEST(IcnnKernels, MatchAutogradInFloat64) {
  // Same sums in another order: round-off only, ~1e-15 relative; 1e-10 is the bar.
  for (const auto& c : cases()) check_case(c, at::kDouble, 1e-10);
}

TEST(IcnnKernels, MatchAutogradInFloat32) {
  // float32 round-off (6e-8) amplified by sums of up to ~20 terms of mixed
  // sign and two chained layers: 2e-4 relative to the largest entry.
  for (const auto& c : cases()) check_case(c, at::kFloat, 2e-4);
}

TEST(IcnnKernels, EngineNamesRoundTrip) {
  for (Engine e : {Engine::kFused, Engine::kAutograd}) EXPECT_EQ(parse_engine(to_string(e)), e);
  EXPECT_THROW(parse_engine("jit"), InvalidArgument);
}

TEST(IcnnKernels, ConvexityPenaltyGradientMatchesAutograd) {
  IcnnPotential f = make({IcnnActivation::kCelu, true, true, 3, 2, 3, 6, 4}, at::kDouble, 5);
  IcnnWeights g = icnn_value_parameter_gradient(f.config(), f.weights(), icnn_forward(f.config(), f.weights(),
                                                at::zeros({2, 4, 3}, at::kDouble)), at::zeros({2, 4}, at::kDouble));
  add_convexity_penalty_gradient(f.weights(), 0.1, g);
  auto ref = torch::autograd::grad({0.1 * f.convexity_violation()}, f.weights().W);
  for (size_t l = 0; l < ref.size(); ++l) EXPECT_LT(testing::relative_error(g.W[l], ref[l]), 1e-12);
}

}  // namespace
}  // namespace wbary::nn

// The CPU (Eigen) kernels against the ATen kernels above, which are held to
// autograd: the g-step gradient of eq. (10) and the f-step value gradient.
#include "wbary/nn/icnn_cpu.h"

namespace wbary::nn {
namespace {

void check_cpu_case(const Case& c, at::ScalarType dtype, double tol) {
  IcnnPotential g = make(c, dtype, 7 + c.dim);
  IcnnPotential f = make(c, dtype, 9 + c.dim);
  const auto opts = at::TensorOptions().dtype(dtype);
  const at::Tensor y = at::randn({c.count, c.batch, c.dim}, opts);
  const std::string tag = std::string(c.activation == IcnnActivation::kCelu ? "celu" : "prelu") + " sq=" +
                          std::to_string(c.square_first) + " skip=" + std::to_string(c.skip) + " L=" +
                          std::to_string(c.layers) + " H=" + std::to_string(c.width);
  ASSERT_TRUE(cpu::supported(g));

  // g-step reference: ATen kernels.
  IcnnTape tg = icnn_forward(g.config(), g.weights(), y);
  icnn_backward_gradient(g.config(), g.weights(), tg);
  IcnnTape tf = icnn_forward(f.config(), f.weights(), tg.gradient);
  icnn_backward_gradient(f.config(), f.weights(), tf);
  const at::Tensor loss_ref = (tf.value - (y * tg.gradient).sum(-1)).mean(1);
  IcnnWeights ref = icnn_directional_parameter_gradient(g.config(), g.weights(), tg, (tf.gradient - y) / c.batch);
  add_convexity_penalty_gradient(g.weights(), 0.1, ref);
  std::vector<double> loss(c.count);
  cpu::g_step(g, f, y, 0.1, loss.data());
  expect_close(flatten(g, g.gradient_views()), flatten(g, ref), tol, "cpu g-step " + tag);
  for (int64_t k = 0; k < c.count; ++k) EXPECT_NEAR(loss[k], loss_ref[k].item<double>(), tol * 10) << tag;

  // f-step: value gradient with a random cotangent.
  const at::Tensor cot = at::randn({c.count, c.batch}, opts);
  IcnnTape tx = icnn_forward(f.config(), f.weights(), y);
  IcnnWeights vref = icnn_value_parameter_gradient(f.config(), f.weights(), tx, cot);
  at::Tensor value;
  cpu::value_parameter_gradient(f, y, cot, 0.0, value);
  expect_close(flatten(f, f.gradient_views()), flatten(f, vref), tol, "cpu value " + tag);
  EXPECT_LT(testing::relative_error(value, tx.value), tol) << tag;

  at::Tensor v2, grad;
  cpu::value_and_gradient(f, y, v2, grad);
  icnn_backward_gradient(f.config(), f.weights(), tx);
  EXPECT_LT(testing::relative_error(grad, tx.gradient), tol) << tag;
}

TEST(IcnnCpuKernels, MatchTheReferenceKernelsInFloat64) {
  for (const auto& c : cases()) check_cpu_case(c, at::kDouble, 1e-10);
}

TEST(IcnnCpuKernels, BigNetworksMatchOnEveryThreadingPath) {
  // Big enough (batch * H * (H + d) >= 5e5) for the threaded paths of
  // for_each_network: with 2 threads, one network runs its products on both
  // threads (Eigen's parallel GEMM), two networks run one per thread.
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  for (int64_t count : {1, 2}) {
    check_cpu_case({IcnnActivation::kCelu, true, true, 2, count, 16, 96, 64}, at::kDouble, 1e-10);
  }
  at::set_num_threads(before);
}

TEST(IcnnCpuKernels, MatchTheReferenceKernelsInFloat32) {
  // As for the ATen kernels: float32 round-off through two chained networks.
  for (const auto& c : cases()) check_cpu_case(c, at::kFloat, 5e-4);
}

// The CPU kernels' penalty on a network's gradient views against the ATen
// functional form: the same arithmetic, one multiply-add per entry, which
// the kernel may fuse (one rounding instead of two): equal to an ulp of the
// gradient, 1e-15 / 1e-6 relative.
TEST(IcnnCpuKernels, ConvexityPenaltyMatchesTheFunctionalForm) {
  for (auto dtype : {at::kDouble, at::kFloat}) {
    const double tol = dtype == at::kDouble ? 1e-15 : 1e-6;
    IcnnPotential f = make({IcnnActivation::kCelu, true, true, 3, 2, 3, 6, 4}, dtype, 5);
    {
      torch::NoGradGuard ng;  // a mix of signs in every convex weight
      for (const auto& w : f.weights().W) const_cast<at::Tensor&>(w).sub_(0.5 * w.abs().max());
      const_cast<at::Tensor&>(f.weights().w).sub_(0.5 * f.weights().w.abs().max());
    }
    at::Generator gen = data::make_generator(3);
    const IcnnWeights& views = f.gradient_views();
    const_cast<at::Tensor&>(f.flat_gradients()).copy_(at::randn(f.flat_gradients().sizes(), gen, dtype));
    IcnnWeights want = views;
    for (auto& t : want.W) t = t.clone();
    want.w = want.w.clone();
    add_convexity_penalty_gradient(f.weights(), 0.1, want);
    std::vector<at::Tensor> before;
    for (const auto& t : views.W) before.push_back(t.clone());
    ASSERT_TRUE(cpu::supported(f));
    cpu::add_convexity_penalty(f, 0.1);
    for (size_t l = 0; l < want.W.size(); ++l) {
      EXPECT_LT(testing::relative_error(views.W[l], want.W[l]), tol) << l;
      EXPECT_GT((want.W[l] - before[l]).abs().max().item<double>(), 0.0) << l;  // the penalty acted
    }
    EXPECT_LT(testing::relative_error(views.w, want.w), tol);
  }
}

}  // namespace
}  // namespace wbary::nn
