#include "wbary/nn/small_gemm.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <type_traits>

#if WBARY_WITH_LIBXSMM
#include <libxsmm.h>
#endif

namespace wbary::nn::cpu {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using CMap = Eigen::Map<const Mat<T>>;

template <typename T>
void eigen_gemm(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t m, int64_t n, int64_t k,
                bool accumulate) {
  Eigen::Map<Mat<T>> C(c, m, n);
  const CMap<T> A(a, trans_a ? k : m, trans_a ? m : k), B(b, trans_b ? n : k, trans_b ? k : n);
  // Four spelled-out cases: Eigen picks its kernel from the static types.
  if (!trans_a && !trans_b) {
    accumulate ? (C.noalias() += A * B) : (C.noalias() = A * B);
  } else if (!trans_a) {
    accumulate ? (C.noalias() += A * B.transpose()) : (C.noalias() = A * B.transpose());
  } else if (!trans_b) {
    accumulate ? (C.noalias() += A.transpose() * B) : (C.noalias() = A.transpose() * B);
  } else {
    accumulate ? (C.noalias() += A.transpose() * B.transpose()) : (C.noalias() = A.transpose() * B.transpose());
  }
}

#if WBARY_WITH_LIBXSMM
// LIBXSMM is column-major: the row-major C (m x n) is the column-major
// C^T = op(B)^T op(A)^T (n x m), so B's buffer is its first operand and A's
// its second, each transposed exactly when the row-major operand is.
template <typename T>
bool xsmm_gemm(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t m, int64_t n, int64_t k,
               bool accumulate) {
  const libxsmm_blasint lda = trans_b ? k : n, ldb = trans_a ? m : k, ldc = n;
  const T alpha = 1, beta = accumulate ? 1 : 0;
  const int flags = (trans_b ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (trans_a ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
  using Kernel = std::conditional_t<std::is_same_v<T, float>, libxsmm_smmfunction, libxsmm_dmmfunction>;
  // LIBXSMM's own dispatch hashes a full GEMM descriptor on every call
  // (~2 % of an NWB iteration at d = 16, perf); the kernels repeat a handful
  // of shapes, so a small direct-mapped table per thread answers first.
  // Refusals are cached too (kernel == nullptr with the key set).
  struct Entry {
    int64_t m = -1, n = -1, k = -1;
    int flags = -1;
    bool accumulate = false;
    Kernel kernel = nullptr;
  };
  thread_local Entry table[64];
  Entry& e = table[static_cast<uint64_t>(m * 73856093 ^ n * 19349663 ^ k * 83492791 ^ flags * 7 ^ (accumulate ? 1 : 0)) & 63];
  if (e.m != m || e.n != n || e.k != k || e.flags != flags || e.accumulate != accumulate) {
    if constexpr (std::is_same_v<T, float>) {
      e.kernel = libxsmm_smmdispatch(n, m, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
    } else {
      e.kernel = libxsmm_dmmdispatch(n, m, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
    }
    e.m = m;
    e.n = n;
    e.k = k;
    e.flags = flags;
    e.accumulate = accumulate;
  }
  if (!e.kernel) return false;
  e.kernel(b, a, c);
  return true;
}
#endif

}  // namespace

template <typename T>
void small_gemm(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t m, int64_t n, int64_t k,
                bool accumulate) {
#if WBARY_WITH_LIBXSMM
  if (xsmm_gemm(a, trans_a, b, trans_b, c, m, n, k, accumulate)) return;
#endif
  eigen_gemm(a, trans_a, b, trans_b, c, m, n, k, accumulate);
}

template <typename T>
void transpose(const T* in, T* out, int64_t rows, int64_t cols) {
#if WBARY_WITH_LIBXSMM
  // Column-major in LIBXSMM's terms: `in` is cols x rows with leading
  // dimension cols, `out` rows x cols with leading dimension rows.
  libxsmm_otrans(out, in, sizeof(T), static_cast<libxsmm_blasint>(cols), static_cast<libxsmm_blasint>(rows),
                 static_cast<libxsmm_blasint>(cols), static_cast<libxsmm_blasint>(rows));
#else
  Eigen::Map<Mat<T>>(out, cols, rows) = CMap<T>(in, rows, cols).transpose();
#endif
}

template <typename T>
void fill_rows(T* dst, const T* row, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  std::memcpy(dst, row, sizeof(T) * cols);
  for (int64_t filled = 1; filled < rows;) {
    const int64_t n = std::min(filled, rows - filled);
    std::memcpy(dst + filled * cols, dst, sizeof(T) * n * cols);
    filled += n;
  }
}

bool small_gemm_uses_libxsmm() { return WBARY_WITH_LIBXSMM != 0; }

template void small_gemm<float>(const float*, bool, const float*, bool, float*, int64_t, int64_t, int64_t, bool);
template void small_gemm<double>(const double*, bool, const double*, bool, double*, int64_t, int64_t, int64_t, bool);
template void transpose<float>(const float*, float*, int64_t, int64_t);
template void transpose<double>(const double*, double*, int64_t, int64_t);
template void fill_rows<float>(float*, const float*, int64_t, int64_t);
template void fill_rows<double>(double*, const double*, int64_t, int64_t);

}  // namespace wbary::nn::cpu
