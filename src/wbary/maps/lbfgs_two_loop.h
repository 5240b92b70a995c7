// File: wbary/maps/lbfgs_two_loop.h
//
// The L-BFGS two-loop recursion (Nocedal & Wright, Alg. 7.4) for a batch of
// independent problems, as the batched conjugate solver needs it: for each
// active row b, r_b = H_b g_b from the row's stored pairs (s, y, rho) with
// the initial scaling gamma = s.y / y.y of the newest kept pair. Rejected or
// empty slots have rho = 0 and drop out.
//
// Two implementations of the same recursion: `lbfgs_two_loop` runs one loop
// per row over raw memory on the CPU (O(m d) flops per row; the tensor form
// dispatched ~80 small operations per solver iteration, most of a W2-map
// step when the solve takes 10-20 iterations) and falls back to
// `lbfgs_two_loop_tensor` elsewhere (CUDA), which is also the reference the
// tests compare it with.
//
// Example:
//   at::Tensor r = maps::lbfgs_two_loop(g_active, S, Y, rho, active_rows, iteration, history);
//   at::Tensor direction = -r;
#pragma once

#include <ATen/ATen.h>

namespace wbary::maps {

/// r = H g for the rows `idx` [A] (int64) of the batch: g [A, d] their
/// gradients, S and Y [m, B, d] the step and gradient-change pairs of every
/// row, rho [m, B] their 1 / s.y (0 for an unused slot). `iteration` is the
/// solver's iteration (pairs were stored in slot t % m at iterations t <
/// iteration), `history` m. Returns [A, d].
at::Tensor lbfgs_two_loop(const at::Tensor& g, const at::Tensor& S, const at::Tensor& Y, const at::Tensor& rho,
                          const at::Tensor& idx, int64_t iteration, int64_t history);

/// The same recursion in tensor operations (any device).
at::Tensor lbfgs_two_loop_tensor(const at::Tensor& g, const at::Tensor& S, const at::Tensor& Y,
                                 const at::Tensor& rho, const at::Tensor& idx, int64_t iteration, int64_t history);

}  // namespace wbary::maps
