#include <gtest/gtest.h>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/grid/convolutional_barycenter.h"
#include "wbary/grid/linear_domain_barycenter.h"

namespace wbary::grid {
namespace {

at::Tensor gibbs_kernel(int64_t n, double eps) {
  const at::Tensor t = at::linspace(0, 1, n, at::kDouble);
  return at::exp(-(t.unsqueeze(1) - t.unsqueeze(0)).square() / eps);
}

// Three silhouettes on a 40 x 36 grid (two axes of different lengths, so a
// swapped kernel would show): a disc, a box, a ring, each normalised.
at::Tensor silhouettes() {
  const at::Tensor y = at::linspace(0, 1, 40, at::kDouble).view({40, 1});
  const at::Tensor x = at::linspace(0, 1, 36, at::kDouble).view({1, 36});
  const at::Tensor disc = ((x - 0.3).square() + (y - 0.35).square() < 0.04).to(at::kDouble);
  const at::Tensor box = ((x - 0.65).abs() < 0.18).logical_and((y - 0.6).abs() < 0.12).to(at::kDouble);
  const at::Tensor r = ((x - 0.5).square() + (y - 0.5).square()).sqrt();
  const at::Tensor ring = ((r - 0.3).abs() < 0.06).to(at::kDouble);
  at::Tensor all = at::stack({disc, box, ring});
  return all / all.sum({1, 2}, /*keepdim=*/true);
}

double relative_to_peak(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

TEST(LinearDomainBarycenter, SupportCutProductsEqualTheFullGridIteration) {
  // The reference: the same linear-domain iteration written naively, every
  // product over the whole grid (u_k is 0 off the support, so the cut must
  // change nothing but the summation order).
  const at::Tensor A = silhouettes();
  const std::vector<double> w{0.2, 0.3, 0.5};
  const at::Tensor k1 = gibbs_kernel(40, 4e-3), k2 = gibbs_kernel(36, 4e-3);
  const at::Tensor wt = at::tensor(w, at::kDouble).view({3, 1, 1});
  at::Tensor v = at::ones_like(A), bar;
  for (int it = 0; it < 40; ++it) {
    const at::Tensor u = A / at::matmul(at::matmul(k1, v), k2);
    const at::Tensor KU = at::matmul(at::matmul(k1, u), k2);
    bar = at::exp((wt * at::log(KU)).sum(0));
    v = bar / KU;
  }
  const LinearDomainOutcome got = linear_domain_barycenter(A, w, k1, k2, {40, 0.0}, 9);
  ASSERT_FALSE(got.underflowed);
  EXPECT_EQ(got.result.iterations, 40);
  EXPECT_EQ(got.result.error_trace.size(), 4u);  // iterations 9, 19, 29, 39
  // 40 iterations in float64, summation order only: 1e-12 of the peak.
  EXPECT_LT(relative_to_peak(got.result.barycenter, bar), 1e-12);
  EXPECT_LT((got.result.log_scalings - at::log(v)).abs().max().item<double>(), 1e-10);
}

TEST(LinearDomainBarycenter, SameIteratesAsTheLogDomain) {
  const at::Tensor A = silhouettes();
  const std::vector<at::Tensor> inputs{A[0], A[1], A[2]};
  ConvolutionalBarycenterConfig config{.epsilon = 4e-3, .max_iterations = 2000, .tolerance = 1e-6};
  const GridBarycenterResult linear = ConvolutionalBarycenter(config).solve(inputs, {0.2, 0.3, 0.5});
  config.log_domain = true;
  config.stabiliser = 0;  // zeros as zeros in both
  const GridBarycenterResult log = ConvolutionalBarycenter(config).solve(inputs, {0.2, 0.3, 0.5});
  ASSERT_TRUE(linear.convergence.converged);
  ASSERT_TRUE(log.convergence.converged);
  EXPECT_EQ(linear.linear_domain_iterations, linear.convergence.iterations);
  EXPECT_EQ(log.linear_domain_iterations, 0);
  // Same stopping iteration and error trace: with zeros kept as zeros in
  // both, the iterates differ by round-off only.
  EXPECT_EQ(linear.convergence.iterations, log.convergence.iterations);
  ASSERT_EQ(linear.convergence.error_trace.size(), log.convergence.error_trace.size());
  for (size_t i = 0; i < log.convergence.error_trace.size(); ++i) {
    EXPECT_NEAR(linear.convergence.error_trace[i], log.convergence.error_trace[i],
                1e-6 * log.convergence.error_trace[i]) << i;
  }
  EXPECT_LT(relative_to_peak(linear.barycenter, log.barycenter), 1e-10);
  for (int k = 0; k < 3; ++k) {
    // log v_k where the barycenter has mass (elsewhere the stabiliser moves it).
    const at::Tensor where = log.barycenter > 1e-6 * log.barycenter.max();
    EXPECT_LT((linear.log_scalings[k] - log.log_scalings[k]).masked_select(where).abs().max().item<double>(), 1e-8);
  }
  // POT's stabThr = 1e-30 on every pixel (the log domain's default) moves
  // the scalings where K v_k is tiny (by ~1e-5 in log v_k here), but the
  // barycenter only by ~1e-12 of its peak.
  config.stabiliser = 1e-30;
  const GridBarycenterResult stabilised = ConvolutionalBarycenter(config).solve(inputs, {0.2, 0.3, 0.5});
  EXPECT_LT(relative_to_peak(linear.barycenter, stabilised.barycenter), 1e-10);
}

TEST(LinearDomainBarycenter, UnderflowHandsOverToTheLogDomain) {
  // eps = 1e-4 on 40 pixels: the kernel falls to e^-10^4 across the grid,
  // so the linear domain cannot hold the scalings far from the mass.
  const at::Tensor A = silhouettes();
  const std::vector<at::Tensor> inputs{A[0], A[1]};
  ConvolutionalBarycenterConfig config{.epsilon = 1e-4, .max_iterations = 60, .tolerance = 0};
  const GridBarycenterResult mixed = ConvolutionalBarycenter(config).solve(inputs, {0.4, 0.6});
  config.log_domain = true;
  const GridBarycenterResult log = ConvolutionalBarycenter(config).solve(inputs, {0.4, 0.6});
  EXPECT_LT(mixed.linear_domain_iterations, 60);
  EXPECT_EQ(mixed.convergence.iterations, 60);
  EXPECT_EQ(mixed.convergence.error_trace.size(), log.convergence.error_trace.size());  // same check iterations
  EXPECT_TRUE(at::isfinite(mixed.barycenter).all().item<bool>());
  EXPECT_LT(relative_to_peak(mixed.barycenter, log.barycenter), 1e-8);
}

TEST(LinearDomainBarycenter, HandOverMidRunKeepsTheIterates) {
  // Scalings handed over after k linear iterations continue the same
  // sequence: k linear + (n - k) log iterations = n log iterations.
  const at::Tensor A = silhouettes().narrow(0, 0, 2).contiguous();
  const std::vector<double> w{0.5, 0.5};
  const double eps = 4e-3;
  const at::Tensor k1 = gibbs_kernel(40, eps), k2 = gibbs_kernel(36, eps);
  const LinearDomainOutcome head = linear_domain_barycenter(A, w, k1, k2, {25, 0.0}, 9);
  ASSERT_FALSE(head.underflowed);
  ConvolutionalBarycenterConfig config{.epsilon = eps, .max_iterations = 40, .tolerance = 0, .log_domain = true};
  const ConvolutionalBarycenter solver(config);
  const LinearDomainOutcome whole = linear_domain_barycenter(A, w, k1, k2, {40, 0.0}, 9);
  const auto log_k = [&](const at::Tensor& t) { return solver.log_convolve(t); };
  const ot::BregmanResult tail = ot::log_bregman_barycenter(at::log(A + 1e-30), w, log_k, log_k, {15, 0.0}, 9, {},
                                                            head.result.log_scalings);
  EXPECT_LT(relative_to_peak(tail.barycenter, whole.result.barycenter), 1e-10);
}

TEST(LinearDomainBarycenter, VolumesAndSharpeningStayInTheLogDomain) {
  const at::Tensor a = at::rand({6, 7, 8}, at::kDouble), b = at::rand({6, 7, 8}, at::kDouble);
  const GridBarycenterResult vol = ConvolutionalBarycenter({.epsilon = 4e-2, .max_iterations = 20}).solve({a, b}, {});
  EXPECT_EQ(vol.linear_domain_iterations, 0);
  const at::Tensor A = silhouettes();
  const GridBarycenterResult sharp =
      ConvolutionalBarycenter({.epsilon = 4e-3, .max_iterations = 20, .sharpen = true}).solve({A[0], A[1]}, {});
  EXPECT_EQ(sharp.linear_domain_iterations, 0);
}

TEST(LinearDomainBarycenter, RefusesWhatItCannotRun) {
  const at::Tensor k = gibbs_kernel(5, 1e-2);
  EXPECT_THROW(linear_domain_barycenter(at::ones({5, 5}, at::kDouble), {1.0}, k, k, {}, 9), InvalidArgument);
  EXPECT_THROW(linear_domain_barycenter(at::ones({1, 5, 5}, at::kFloat), {1.0}, k, k, {}, 9), InvalidArgument);
}

}  // namespace
}  // namespace wbary::grid
