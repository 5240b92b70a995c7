#include "wbary/nn/mlp_cpu.h"

#include <ATen/Parallel.h>
#include <Eigen/Core>

#include <algorithm>
#include <vector>

#include "wbary/nn/small_gemm.h"

namespace wbary::nn::cpu {
namespace {

// Products with fewer result columns stay with ATen (measured: at 1 024 x 8
// x 64 OpenBLAS ran at 62 GFLOP/s against small_gemm's 45).
constexpr int64_t kMinColumns = 16;
// Rows per task (at least) when the products run on several threads.
constexpr int64_t kRowGrain = 256;
// ELU in chunks small enough for exp(a) to stay in L1 until the select.
constexpr int64_t kEluChunk = 2048;

// A pass that records a graph needs ATen's operations; parameters that
// require gradients are fine under NoGradGuard.
bool kernel_applies(const at::Tensor& t) {
  return t.device().is_cpu() && t.is_contiguous() && !(at::GradMode::is_enabled() && t.requires_grad()) &&
         (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble);
}

bool kernel_applies(std::initializer_list<const at::Tensor*> tensors) {
  const at::ScalarType type = (*tensors.begin())->scalar_type();
  for (const at::Tensor* t : tensors) {
    if (!kernel_applies(*t) || t->scalar_type() != type) return false;
  }
  return true;
}

// out[rows, cols] (+)= a[rows, k] b[k, cols] in blocks of a fixed height,
// the last one through a zero-padded copy. LIBXSMM generates one kernel per
// shape, and the conjugate solve evaluates a different number of rows each
// iteration: a new height cost a JIT compilation, later a registry lookup,
// on every call (62-94 against ~125 GFLOP/s at 64 x 64, measured). Blocks
// are taller where k is small, so that a call still does enough work.
template <typename T>
void rows_times(const T* a, const T* b, T* out, int64_t rows, int64_t cols, int64_t k, bool accumulate) {
  const int64_t height = k >= 32 ? 64 : 256;
  const int64_t blocks = (rows + height - 1) / height;
  at::parallel_for(0, blocks, std::max<int64_t>(1, kRowGrain / height), [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t first = block * height, r = std::min(height, rows - first);
      T* c = out + first * cols;
      if (r == height) {
        small_gemm<T>(a + first * k, false, b, false, c, height, cols, k, accumulate);
        continue;
      }
      thread_local std::vector<T> padded_a, padded_c;
      padded_a.assign(static_cast<size_t>(height * k), T(0));
      std::copy(a + first * k, a + (first + r) * k, padded_a.begin());
      padded_c.resize(static_cast<size_t>(height * cols));
      if (accumulate) std::copy(c, c + r * cols, padded_c.begin());
      small_gemm<T>(padded_a.data(), false, b, false, padded_c.data(), height, cols, k, accumulate);
      std::copy(padded_c.begin(), padded_c.begin() + r * cols, c);
    }
  });
}

template <typename T>
void elu_chunked(T* a, int64_t size) {
  alignas(64) T e[kEluChunk];
  for (int64_t start = 0; start < size; start += kEluChunk) {
    const int64_t n = std::min(kEluChunk, size - start);
    T* __restrict p = a + start;
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(e, n) =
        Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p, n).min(T(0)).exp();
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] > T(0) ? p[i] : e[i] - T(1);
  }
}

template <typename T>
void elu_backward_loop(const T* __restrict cot, const T* __restrict z, T* __restrict out, int64_t size) {
  for (int64_t i = 0; i < size; ++i) out[i] = z[i] > T(0) ? cot[i] : cot[i] * (z[i] + T(1));
}

}  // namespace

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
  if (out < kMinColumns || !kernel_applies({&x, &w, &b})) return at::addmm(b, x, w.t());
  at::Tensor y = at::empty({n, out}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "linear", [&] {
    // The bias first, so that the product accumulates onto it; w^T laid out
    // once (LIBXSMM 1.17 generates no kernel with that operand transposed).
    fill_rows(y.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), n, out);
    at::Tensor wt = at::empty({in, out}, w.options());
    transpose(w.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), out, in);
    rows_times(x.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n, out, in, true);
  });
  return y;
}

at::Tensor linear_input_cotangent(const at::Tensor& delta, const at::Tensor& w) {
  const int64_t n = delta.size(0), out = w.size(0), in = w.size(1);
  if (in < kMinColumns || !kernel_applies({&delta, &w})) return at::mm(delta, w);
  at::Tensor dx = at::empty({n, in}, delta.options());
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "linear_input_cotangent", [&] {
    rows_times(delta.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), n, in, out, false);
  });
  return dx;
}

at::Tensor linear_weight_gradient(const at::Tensor& delta, const at::Tensor& x) {
  const int64_t n = delta.size(0), out = delta.size(1), in = x.size(1);
  if (in < kMinColumns || at::get_num_threads() > 1 || !kernel_applies({&delta, &x})) return at::mm(delta.t(), x);
  at::Tensor dw = at::empty({out, in}, delta.options());
  AT_DISPATCH_FLOATING_TYPES(delta.scalar_type(), "linear_weight_gradient", [&] {
    small_gemm<scalar_t>(delta.data_ptr<scalar_t>(), true, x.data_ptr<scalar_t>(), false, dw.data_ptr<scalar_t>(), out,
                         in, n, false);
  });
  return dw;
}

at::Tensor& elu_in_place(at::Tensor& a) {
  if (!kernel_applies(a)) return at::elu_(a);
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "elu_", [&] { elu_chunked(a.data_ptr<scalar_t>(), a.numel()); });
  return a;
}

at::Tensor elu_backward_from_output(const at::Tensor& cot, const at::Tensor& z) {
  if (cot.sizes() != z.sizes() || !kernel_applies({&cot, &z})) {
    return at::elu_backward(cot, 1.0, 1.0, 1.0, /*is_result=*/true, z);
  }
  at::Tensor out = at::empty_like(z);
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "elu_backward_from_output", [&] {
    elu_backward_loop(cot.data_ptr<scalar_t>(), z.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), z.numel());
  });
  return out;
}

}  // namespace wbary::nn::cpu
