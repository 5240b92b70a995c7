// File: wbary/nn/picnn.h
//
// Partially input-convex potentials f(x; c): convex in x in R^d for every
// context c in R^m, arbitrary in c (Amos, Xu, Kolter, ICML 2017, §3.2).
// NWB-II (barycenter/all_weights_barycenter.h) conditions its potentials on
// the weight vector this way.
//
// The context acts on the layers as PICNN's gates and biases do. A context
// path u = softplus(U_2 softplus(U_1 c + s_1) + s_2) (ordinary layers) feeds
// one linear head whose outputs, for each ICNN layer (nn/icnn.h), scale its
// input x, bias it, and scale its convex input z non-negatively:
//
//   A_l(c) = A_l diag(1 + X_l u)      b_l(c) = b_l + V_l u
//   W_l(c) = W_l diag(relu(1 + G_l u))     (W_l >= 0, so W_l(c) >= 0)
//   w(c)   = w o relu(1 + G_L u)           a(c) = a + Q u,  c0(c) = c0 + k u
//
// For one context c the network IS an ICNN with the weights effective(c),
// convex in x whatever the parameters (W_l, w >= 0 by clamp or penalty, as
// the ICNN); the head starts at zero, so a fresh PICNN is exactly an ICNN
// initialised as NWB's. Because of that, one weight vector per batch lets
// training run on the fused ICNN kernels (nn/icnn_kernels.h, nn/icnn_cpu.h):
// they give the gradient in effective(c), and backward_at() (closed form;
// backward_effective() is its autograd reference) carries it through the
// small map theta -> effective(c) into the parameters. Amos
// et al. gate with per-sample contexts and a context path per layer; one
// shared context embedding and one context per call keep the same family
// (convex in x, any smooth dependence on c) at a fraction of the cost.
//
// Example:
//   nn::PicnnPotential f(/*count=*/3, /*dim=*/2, /*context_dim=*/3, nn::PicnnConfig{}, gen);
//   nn::IcnnWeights e = f.effective(w);                 // w [m]: the ICNN at this context
//   at::Tensor t = nn::icnn_gradient(f.icnn_config(), e, x);   // grad_x f(x; w), x [K, B, d]
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "wbary/nn/icnn.h"

namespace wbary::nn {

/// A partially input-convex network's widths: the convex x-path and the weight path.
struct PicnnConfig {
  /// The convex path: an ICNN (nn/icnn.h) with its defaults (3 layers,
  /// width max(2d, 32), CELU, squared first layer, quadratic skip).
  IcnnConfig convex;
  /// Width of the two context layers; 0 = max(16, 4m).
  int64_t context_width = 0;
};

/// The config with automatic (0) widths resolved for dimension `dim` and context size `context_dim`.
PicnnConfig resolved(PicnnConfig config, int64_t dim, int64_t context_dim);

/// Partially input-convex potentials f(x; w), convex in x (Amos et al. 2017), for NWB-II.
class PicnnPotential : public torch::nn::Module {
 public:
  /// `count` networks on R^dim x R^context_dim; `config` must be resolved.
  /// The convex path is initialised as IcnnPotential, the context path as
  /// PyTorch's nn.Linear (uniform, bound 1/sqrt(fan_in)).
  PicnnPotential(int64_t count, int64_t dim, int64_t context_dim, PicnnConfig config, at::Generator& gen,
                 at::ScalarType dtype = at::kFloat, at::Device device = at::kCPU);

  /// Number of networks in the stack (one per marginal).
  int64_t count() const { return base_->count(); }
  /// Dimension d of the convex input x.
  int64_t dim() const { return base_->dim(); }
  /// Dimension of the context w (the weight vector).
  int64_t context_dim() const { return context_dim_; }
  /// The configuration it was built with.
  const PicnnConfig& config() const { return config_; }
  /// The convex x-path's config.
  const IcnnConfig& icnn_config() const { return base_->config(); }
  /// dtype and device of the parameters.
  at::TensorOptions options() const { return base_->weights().w.options(); }

  /// The ICNN weights of every network at context c ([m], the same for all
  /// K networks), [K, ...] as IcnnPotential::weights(); differentiable in
  /// the parameters (unless under a NoGradGuard).
  IcnnWeights effective(const at::Tensor& c) const;
  /// Chain rule: with `gradient` = dL/d effective(c) (from the ICNN
  /// kernels), writes dL/dtheta into convex_gradients() and
  /// context_gradients() (overwriting them). `effective` must be the
  /// graph-carrying result of effective(c) for the current parameters.
  void backward_effective(const IcnnWeights& effective, const IcnnWeights& gradient);

  /// effective(c) written into `target`'s parameters (an IcnnPotential of
  /// the same shape: the kernels' scratch network), without a graph. On the
  /// CPU (float, double) in closed form over raw memory: at the paper's
  /// sizes effective() is ~25 ATen calls and its autograd backward ~50,
  /// more than the ICNN step they surround.
  void effective_into(const at::Tensor& c, IcnnPotential& target) const;
  /// backward_effective() for the current parameters at context c without a
  /// graph: the chain rule through theta -> effective(c) written out (CPU
  /// float / double; elsewhere it builds effective(c) and uses autograd).
  /// `gradient` = dL/d effective(c); overwrites convex().flat_gradients()
  /// and context_gradients().
  void backward_at(const at::Tensor& c, const IcnnWeights& gradient);

  /// f_k(x_kb; c), x [K, B, d] -> [K, B]; differentiable.
  at::Tensor value(const at::Tensor& x, const at::Tensor& c) const;
  /// grad_x f_k(x; c) for x [K, B, d], closed form, no graph.
  at::Tensor gradient(const at::Tensor& x, const at::Tensor& c) const;
  /// Network k alone: x [n, d] -> grad_x f_k(x; c), [n, d].
  at::Tensor gradient_of(int64_t k, const at::Tensor& x, const at::Tensor& c) const;

  /// The convex path (an ICNN: its flat parameters, gradient views, clamp, penalty).
  IcnnPotential& convex() { return *base_; }
  /// The convex x-path.
  const IcnnPotential& convex() const { return *base_; }
  /// Every context-path and head parameter, in one tensor (one Adam).
  const at::Tensor& context_parameters() const { return context_; }
  /// The gradient buffer of context_parameters().
  const at::Tensor& context_gradients() const { return context_grad_; }
  /// Writes .grad() of all parameters (after an autograd backward) into
  /// convex().flat_gradients() and context_gradients().
  void gather_gradients();

  /// W_l <- max(W_l, 0), w <- max(w, 0) (Fan et al. Alg. 1, "Clip").
  void clamp_convex_weights() { base_->clamp_convex_weights(); }
  /// sum ||max(-W, 0)||_F^2: the penalty R of eq. (10).
  at::Tensor convexity_violation() const { return base_->convexity_violation(); }
  /// After Module::load replaced the storages (IcnnPotential::repack).
  void repack() { base_->repack(); }

 private:
  void check_context(const at::Tensor& c) const;

  std::shared_ptr<IcnnPotential> base_;
  at::Tensor context_;       ///< per network: U_1, s_1, U_2, s_2, head weight, head bias; flat [K * P]
  at::Tensor context_grad_;
  int64_t context_dim_;
  int64_t head_size_;        ///< L d (x scales) + L H (biases) + L H (z scales and output) + d + 1 (quadratic)
  PicnnConfig config_;
};

}  // namespace wbary::nn
