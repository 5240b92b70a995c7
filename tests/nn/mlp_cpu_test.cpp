#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "wbary/nn/mlp_cpu.h"

namespace wbary::nn::cpu {
namespace {

double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return ((got.to(at::kDouble) - want.to(at::kDouble)).abs().max() / want.to(at::kDouble).abs().max().clamp_min(1e-300))
      .item<double>();
}

// The dense products against the ATen operations they replace, under
// NoGradGuard with parameters that require gradients (as in the W2-map
// passes), on the maps' shapes: wide (small_gemm), narrow (< 16 columns:
// ATen) and a row count that splits unevenly over threads. float64: sums of
// <= 64 products, 1e-13 relative; float32: 1e-5.
TEST(MlpCpu, DenseProductsMatchAten) {
  at::manual_seed(21);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    const double tolerance = dtype == at::kDouble ? 1e-13 : 1e-5;
    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      for (const auto& [n, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
               {1024, 8, 64}, {1024, 64, 64}, {777, 64, 32}, {1024, 32, 1}, {300, 64, 8}, {5, 16, 16}}) {
        const at::Tensor x = at::randn({n, in}, dtype);
        const at::Tensor w = at::randn({out, in}, dtype).requires_grad_(true);
        const at::Tensor b = at::randn({out}, dtype).requires_grad_(true);
        const at::Tensor delta = at::randn({n, out}, dtype);
        torch::NoGradGuard no_grad;
        EXPECT_LT(relative_error(linear(x, w, b), at::addmm(b, x, w.t())), tolerance) << n << "x" << in << "x" << out;
        EXPECT_LT(relative_error(linear_input_cotangent(delta, w), at::mm(delta, w)), tolerance);
        // A sum over all n rows: 1e-12 / 1e-4 for up to 1 024 terms.
        EXPECT_LT(relative_error(linear_weight_gradient(delta, x), at::mm(delta.t(), x)), 1e3 * tolerance);
      }
    }
  }
  at::set_num_threads(1);
}

TEST(MlpCpu, EluAndItsDerivativeFromTheOutputMatchAten) {
  // exp(a) - 1 against expm1: an ulp of 1 in absolute terms. Inputs around
  // 0 (where the two differ most relative to the value) and far out.
  at::manual_seed(22);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    const double ulp = dtype == at::kDouble ? 2.3e-16 : 1.2e-7;
    at::Tensor a = at::cat({3 * at::randn({5000}, dtype), 1e-3 * at::randn({1000}, dtype),
                            at::tensor({-50.0, -0.0, 0.0, 50.0}, dtype)});
    const at::Tensor want = at::elu(a);
    at::Tensor got = a.clone();
    elu_in_place(got);
    EXPECT_LT((got - want).abs().max().item<double>(), 4 * ulp);
    const at::Tensor cot = at::randn_like(a);
    const at::Tensor d_want = at::elu_backward(cot, 1.0, 1.0, 1.0, /*is_result=*/true, want);
    EXPECT_LT((elu_backward_from_output(cot, got) - d_want).abs().max().item<double>(),
              8 * ulp * cot.abs().max().item<double>());
  }
}

TEST(MlpCpu, GraphsAndOtherLayoutsGoThroughAten) {
  // With autograd recording, the results carry a graph and its gradient is
  // ATen's; a non-contiguous input takes ATen's path with the same answer.
  at::manual_seed(23);
  const at::Tensor x = at::randn({40, 32}, at::kDouble);
  const at::Tensor w = at::randn({32, 32}, at::kDouble).requires_grad_(true);
  const at::Tensor b = at::randn({32}, at::kDouble).requires_grad_(true);
  at::Tensor y = linear(x, w, b);
  ASSERT_TRUE(y.requires_grad());
  elu_in_place(y);
  y.sum().backward();
  const at::Tensor grad_w = w.grad().clone();
  w.mutable_grad() = at::Tensor();
  at::elu(at::addmm(b, x, w.t())).sum().backward();
  EXPECT_TRUE(at::allclose(grad_w, w.grad(), 1e-13, 1e-13));
  torch::NoGradGuard no_grad;
  const at::Tensor xt = at::randn({32, 40}, at::kDouble).t();  // not contiguous
  EXPECT_LT(relative_error(linear(xt, w, b), at::addmm(b, xt, w.t())), 1e-13);
}

}  // namespace
}  // namespace wbary::nn::cpu
