// File: wbary/nn/icnn_cpu.h
//
// The CPU fast path of the fused engine: the same closed-form derivatives
// as nn/icnn_kernels.h (DESIGN.md §2), written over raw parameter memory
// with Eigen instead of ATen operators. At the paper's small sizes (batch
// 100, width 4-32) an ATen call costs more in dispatch and allocation than
// its arithmetic; here one g-update of a network is a dozen Eigen GEMMs on
// a workspace that is allocated once per thread and reused, and the K
// networks of a stack run in parallel (at::parallel_for).
//
// Gradients are written straight into the gradient views of the
// parameters (IcnnPotential::gradient_views), ready for FlatAdam.
//
// Example:
//   std::vector<float> loss(K);
//   nn::cpu::g_step(g, f, y, /*penalty=*/0.1, loss.data());   // grads of g filled
#pragma once

#include "wbary/nn/icnn.h"

namespace wbary::nn::cpu {

/// True when the CPU kernels can run these networks (CPU tensors, float32
/// or float64, contiguous).
bool supported(const IcnnPotential& net);

/// g-update of Fan et al. eq. (10) for all K networks of `g`: with
/// t = grad g_k(y_k) and v = (grad f_k(t) - y_k)/B, writes
/// d/dtheta_g [mean f_k(t) - <y_k, t>] (+ lambda * convexity penalty
/// gradient if penalty > 0) into g's gradient views, and the loss per
/// network into loss_g[k] (as double). y: [K, B, d] contiguous.
void g_step(const IcnnPotential& g, const IcnnPotential& f, const at::Tensor& y, double penalty, double* loss_g);

/// Parameter gradient of sum_{k,b} cot[k,b] f_k(x[k,b]) into f's gradient
/// views (+ penalty gradient if penalty > 0); f(x) into value [K, B].
void value_parameter_gradient(const IcnnPotential& f, const at::Tensor& x, const at::Tensor& cot, double penalty,
                              at::Tensor& value);

/// f_k(x) [K, B] and grad f_k(x) [K, B, d] for x [K, B, d].
void value_and_gradient(const IcnnPotential& f, const at::Tensor& x, at::Tensor& value, at::Tensor& gradient);

/// Adds lambda * d/dW sum ||max(-W, 0)||^2 (the penalty of eq. 10) to net's
/// gradient views: what g_step / value_parameter_gradient add with penalty >
/// 0, for callers whose gradient comes from elsewhere (NWB-II's g-step
/// gradient reaches the convex path through the weight path's chain rule).
void add_convexity_penalty(const IcnnPotential& net, double lambda);

}  // namespace wbary::nn::cpu
