#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "wbary/nn/small_gemm.h"

namespace wbary::nn::cpu {
namespace {

// Every transpose combination, with and without accumulation, against
// ATen's matmul in float64: the shapes of the ICNN kernels at d = 2 and 16
// (LIBXSMM kernels where the build has it) and one too large for LIBXSMM's
// JIT (Eigen). Sums of <= 300 products in float64: 1e-12 relative.
template <typename T>
void check_all(int64_t m, int64_t n, int64_t k, double tolerance) {
  const auto dtype = std::is_same_v<T, float> ? at::kFloat : at::kDouble;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (bool acc : {false, true}) {
        const at::Tensor a = at::randn(ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, dtype);
        const at::Tensor b = at::randn(tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, dtype);
        const at::Tensor c0 = at::randn({m, n}, dtype);
        at::Tensor c = c0.clone();
        small_gemm<T>(a.data_ptr<T>(), ta, b.data_ptr<T>(), tb, c.data_ptr<T>(), m, n, k, acc);
        at::Tensor want = at::matmul((ta ? a.t() : a).to(at::kDouble), (tb ? b.t() : b).to(at::kDouble));
        if (acc) want = want + c0.to(at::kDouble);
        const double err = ((c.to(at::kDouble) - want).abs().max() / want.abs().max()).item<double>();
        EXPECT_LT(err, tolerance) << m << "x" << n << "x" << k << " trans_a " << ta << " trans_b " << tb << " acc " << acc;
      }
    }
  }
}

TEST(SmallGemm, EveryLayoutMatchesMatmul) {
  at::manual_seed(11);
  for (const auto& [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {100, 4, 2}, {100, 4, 4}, {4, 2, 100}, {100, 32, 32}, {100, 16, 32}, {32, 16, 100}, {300, 200, 150}}) {
    check_all<double>(m, n, k, 1e-12);
    check_all<float>(m, n, k, 1e-5);  // float32 sums of <= 300 products
  }
}

// Repeated shapes go through the per-thread kernel table: the same product
// twice, then interleaved with other shapes and accumulate flags, must keep
// giving matmul's answer (a stale table entry would not).
TEST(SmallGemm, RepeatedShapesKeepTheirKernels) {
  at::manual_seed(12);
  for (int round = 0; round < 3; ++round) {
    for (const auto& [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {100, 32, 16}, {100, 16, 32}, {32, 16, 100}, {100, 32, 32}}) {
      check_all<double>(m, n, k, 1e-12);
    }
  }
}

TEST(SmallGemm, TransposeMatchesAten) {
  at::manual_seed(13);
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{4, 2}, {32, 16}, {32, 32}, {7, 13}, {300, 5}}) {
    const at::Tensor a = at::randn({rows, cols}, at::kDouble);
    at::Tensor out = at::empty({cols, rows}, at::kDouble);
    transpose<double>(a.data_ptr<double>(), out.data_ptr<double>(), rows, cols);
    EXPECT_TRUE(at::equal(out, a.t().contiguous())) << rows << "x" << cols;
    const at::Tensor af = a.to(at::kFloat);
    at::Tensor outf = at::empty({cols, rows}, at::kFloat);
    transpose<float>(af.data_ptr<float>(), outf.data_ptr<float>(), rows, cols);
    EXPECT_TRUE(at::equal(outf, af.t().contiguous())) << rows << "x" << cols;
  }
}

TEST(SmallGemm, FillRowsRepeatsTheRow) {
  at::manual_seed(14);
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 4}, {2, 3}, {7, 32}, {100, 5}}) {
    const at::Tensor row = at::randn({cols}, at::kDouble);
    at::Tensor out = at::full({rows, cols}, -1.0, at::kDouble);
    fill_rows<double>(out.data_ptr<double>(), row.data_ptr<double>(), rows, cols);
    EXPECT_TRUE(at::equal(out, row.unsqueeze(0).expand({rows, cols}))) << rows << "x" << cols;
  }
}

}  // namespace
}  // namespace wbary::nn::cpu
