// File: wbary/nn/icnn_kernels.h
//
// Closed-form derivatives of stacked ICNN potentials (nn/icnn.h) with no
// autograd graph: the "fused" engine of the NWB solver (DESIGN.md §2).
//
//   icnn_forward                      f(x) and the tape (pre-activations p_l, layer outputs z_l)
//   icnn_backward_gradient            grad f(x) by one reverse sweep; keeps delta_l = df/dp_l
//   icnn_value_parameter_gradient     d/dtheta sum_{k,b} c_kb f_k(x_kb)              (f-step)
//   icnn_directional_parameter_gradient
//                                     d/dtheta sum_{k,b} v_kb . grad f_k(x_kb)     (g-step)
//                                     and optionally d/dx of the same sum, the
//                                     Hessian-vector product Hess f_k(x_kb) v_kb
//
// The g-step of Fan et al. (eq. 10) needs d/dtheta_g of
// mean f(grad g(Y)) - <Y, grad g(Y)>; with v = (grad f(grad g(Y)) - Y)/B held
// fixed this is the parameter gradient of S = sum_b v_b . grad g(Y_b), the
// directional derivative of g along v: forward-over-reverse by hand, a few
// GEMMs on [B, H] matrices instead of autograd's double-backward graph.
//
// Example:
//   nn::IcnnTape tape = nn::icnn_forward(cfg, g.weights(), y);
//   nn::icnn_backward_gradient(cfg, g.weights(), tape);            // tape.gradient = grad g(y)
//   nn::IcnnWeights d = nn::icnn_directional_parameter_gradient(cfg, g.weights(), tape, v);
//   nn::copy_gradients(d, g.gradient_views());                    // then FlatAdam::step
#pragma once

#include <string>
#include <vector>

#include "wbary/nn/icnn.h"

namespace wbary::nn {

/// Everything a forward pass leaves for the derivative sweeps.
struct IcnnTape {
  at::Tensor x;                  ///< [K, B, d]
  std::vector<at::Tensor> p;     ///< p_l, [K, B, H], l = 0..L-1
  std::vector<at::Tensor> z;     ///< z_l = input of layer l, [K, B, H], l = 1..L (z[0] undefined)
  at::Tensor first_activation;   ///< act(p_0) before squaring
  at::Tensor q;                  ///< a.x + c, [K, B, 1] (quadratic skip)
  at::Tensor value;              ///< f(x), [K, B]
  std::vector<at::Tensor> delta; ///< df/dp_l, [K, B, H] (after icnn_backward_gradient)
  at::Tensor gradient;           ///< grad f(x), [K, B, d] (after icnn_backward_gradient)
};

/// The forward pass. Records an autograd graph unless called under a
/// NoGradGuard (icnn_value relies on that; the training kernels do not).
IcnnTape icnn_forward(const IcnnConfig& config, const IcnnWeights& weights, const at::Tensor& x);

/// Fills tape.delta and tape.gradient.
void icnn_backward_gradient(const IcnnConfig& config, const IcnnWeights& weights, IcnnTape& tape);

/// Parameter gradient of sum_{k,b} cotangent[k,b] * f_k(x_kb); cotangent [K, B].
IcnnWeights icnn_value_parameter_gradient(const IcnnConfig& config, const IcnnWeights& weights,
                                          const IcnnTape& tape, const at::Tensor& cotangent);

/// Parameter gradient of sum_{k,b} v_kb . grad f_k(x_kb); v [K, B, d].
/// Requires icnn_backward_gradient to have run on `tape`. With
/// `hessian_vector` set, also writes the input gradient of that sum,
/// Hess f_k(x_kb) v_kb [K, B, d], which the same reverse sweep yields for
/// one more GEMM per layer (CWB's cycle term trains psi through it).
IcnnWeights icnn_directional_parameter_gradient(const IcnnConfig& config, const IcnnWeights& weights,
                                                const IcnnTape& tape, const at::Tensor& v,
                                                at::Tensor* hessian_vector = nullptr);

/// into += g, field by field (gradients of several loss terms of one network).
void add_gradients(IcnnWeights& into, const IcnnWeights& g);

/// How a solver computes the derivatives of its ICNN losses (both engines
/// give the same numbers up to round-off).
enum class Engine {
  kFused,     ///< closed forms of this header (DESIGN.md §2)
  kAutograd,  ///< LibTorch autograd, double backward where a loss holds a gradient
};
std::string to_string(Engine e);
Engine parse_engine(const std::string& name);

/// Adds lambda * d/dW sum ||max(-W, 0)||^2 = -2 lambda max(-W, 0) to the
/// gradients of the convex weights (the penalty R of eq. 10).
void add_convexity_penalty_gradient(const IcnnWeights& weights, double lambda, IcnnWeights& gradients);

/// Copies `gradients` into `destination` field by field (e.g. into
/// IcnnPotential::gradient_views(), for FlatAdam).
void copy_gradients(const IcnnWeights& gradients, const IcnnWeights& destination);

}  // namespace wbary::nn
