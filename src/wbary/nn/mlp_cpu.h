// File: wbary/nn/mlp_cpu.h
//
// The layers of a plain MLP on the CPU, for the W2-map networks' closed-form
// passes (maps/potential.h: the potential f and the amortization model H):
//   - dense products through nn::cpu::small_gemm (LIBXSMM's JIT kernels, or
//     Eigen) instead of at::addmm / at::mm. At the maps' shapes (1 024 rows,
//     widths 32-64) OpenBLAS packs both operands on every call and ran at
//     80-95 GFLOP/s on one core of this machine against 120-165 for
//     small_gemm (bench: BENCHMARKS.md "Cheaper W2-map steps");
//   - ELU (alpha = 1) in place with Eigen's vectorised exp and one select
//     loop, and its derivative from the output: LibTorch's at::elu kernel
//     (expm1 per lane plus a blend) was a sixth of a step at d = 8 (perf).
//     exp(a) - 1 loses relative accuracy next to 0 where expm1 does not; its
//     absolute error (an ulp of 1) is that of the sums the layer feeds.
// Each function takes the kernel for contiguous float / double CPU tensors
// that record no autograd graph, and otherwise calls the ATen operation it
// replaces (other devices, autograd), so callers need no second code path.
// Narrow products (fewer than 16 result columns) stay with ATen, which is
// faster there, and so does the weight gradient with several threads (a
// reduction over rows that small_gemm would run on one).
//
// Example (one layer forward and back):
//   at::Tensor z = nn::cpu::linear(x, w, b);                     // x w^T + b
//   nn::cpu::elu_in_place(z);                                     // z = elu(z)
//   at::Tensor da = nn::cpu::elu_backward_from_output(dz, z);     // dz elu'(.)
//   at::Tensor dw = nn::cpu::linear_weight_gradient(da, x);       // da^T x
//   at::Tensor dx = nn::cpu::linear_input_cotangent(da, w);       // da w
#pragma once

#include <ATen/ATen.h>

namespace wbary::nn::cpu {

/// x w^T + b for x [n, in], w [out, in], b [out] (at::addmm(b, x, w.t())).
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

/// delta w for delta [n, out], w [out, in]: the cotangent of a dense
/// layer's input from that of its output (at::mm(delta, w)).
at::Tensor linear_input_cotangent(const at::Tensor& delta, const at::Tensor& w);

/// delta^T x for delta [n, out], x [n, in]: the gradient of the layer's
/// weight, summed over the rows (at::mm(delta.t(), x)).
at::Tensor linear_weight_gradient(const at::Tensor& delta, const at::Tensor& x);

/// a = elu(a) (alpha = 1) in place; returns a (at::elu_ where the kernel
/// does not apply). Not differentiable: for passes without autograd.
at::Tensor& elu_in_place(at::Tensor& a);

/// cot * elu'(a) from the layer's output z = elu(a): cot where z > 0, else
/// cot (z + 1) (= cot exp(a)); at::elu_backward(..., is_result = true) in
/// one loop. Returns a new tensor.
at::Tensor elu_backward_from_output(const at::Tensor& cot, const at::Tensor& z);

}  // namespace wbary::nn::cpu
