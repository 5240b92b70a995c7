// File: wbary/nn/small_gemm.h
//
// The small row-major products of the ICNN kernels (nn/icnn_cpu.cpp), e.g.
// 100 x 32 x 32 at the paper's d = 16 and 100 x 2 x 4 at d = 2, through
// LIBXSMM's JIT-generated kernels when wbary is built with it (Debian's
// libxsmm-dev; CMake option WBARY_LIBXSMM): Eigen's general GEMM packs both
// operands and picks blocking sizes on every call, which at these sizes costs
// as much as the arithmetic (BENCHMARKS.md, "FlatAdam in one pass"). Shapes
// LIBXSMM cannot generate (its 1.17 JIT refuses a transposed right operand in
// row-major terms) and builds without it use Eigen.
//
// Example (C = A B^T + C, all row-major):
//   nn::cpu::small_gemm(a, /*trans_a=*/false, b, /*trans_b=*/true, c, m, n, k, /*accumulate=*/true);
#pragma once

#include <cstdint>

namespace wbary::nn::cpu {

/// C = op(A) op(B) (or C += when accumulate), all row-major and contiguous:
/// C is m x n; op(A) is m x k (A stored m x k, or k x m when trans_a); op(B)
/// is k x n (B stored k x n, or n x k when trans_b). T is float or double.
template <typename T>
void small_gemm(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t m, int64_t n, int64_t k,
                bool accumulate);

/// out = in^T for a row-major rows x cols `in` (out: cols x rows; the two
/// must not overlap). LIBXSMM's vectorised transpose where the build has it:
/// the kernels' X A^T products need A^T, and an element-by-element strided
/// copy of A and W cost ~2 % of an NWB iteration at d = 16 (perf).
template <typename T>
void transpose(const T* in, T* out, int64_t rows, int64_t cols);

/// Sets each of the `rows` rows of the row-major dst (rows x cols) to `row`
/// (cols numbers), by copies that double the filled part: a few memcpy calls
/// (a bias laid down before products accumulate onto it). Eigen's
/// replicate() became a scalar loop with a division per element, and a
/// row-by-row assignment paid its alignment checks per row of 32 numbers: a
/// quarter of the ICNN forward pass at d = 16 (perf).
template <typename T>
void fill_rows(T* dst, const T* row, int64_t rows, int64_t cols);

/// Whether this build calls LIBXSMM (false: Eigen only).
bool small_gemm_uses_libxsmm();

}  // namespace wbary::nn::cpu
