// File: wbary/nn/icnn.h
//
// Input-convex neural network potentials f: R^d -> R (Amos et al. 2017;
// Fan et al. 2021, eq. 4), stacked: one IcnnPotential holds K independent
// networks with weights of shape [K, out, in], evaluated together by
// batched matrix products, so that the N potentials of a barycenter problem
// cost one call (DESIGN.md §2, "fast-path design").
//
// Architecture (the authors' ICNN_LastInp_Quadratic, reference/nwb-authors.md §1.1):
//   p_0 = A_0 x + b_0,              z_1 = phi(p_0)      phi = act^2 if square_first_layer
//   p_l = W_l z_l + A_l x + b_l,    z_{l+1} = act(p_l)  W_l >= 0 (clamp or penalty)
//   f(x) = w . z_L + (a . x + c)^2                        w >= 0; skip if quadratic_skip
// with act = CELU (default, as the authors' code) or PReLU (the paper's text).
//
// Example:
//   nn::IcnnPotential f(/*count=*/3, /*dim=*/2, nn::IcnnConfig{}.with_width(32), gen);
//   at::Tensor x = at::randn({3, 100, 2}, at::kDouble);   // [K, B, d]
//   at::Tensor v = f.value(x);                            // [K, B], autograd-differentiable
//   at::Tensor g = f.gradient(x);                         // [K, B, d], closed form, no graph
#pragma once

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace wbary::nn {

enum class IcnnActivation { kCelu, kPrelu };

IcnnActivation parse_icnn_activation(const std::string& name);
std::string to_string(IcnnActivation a);

/// An ICNN's widths, depth, activation and convexity handling.
struct IcnnConfig {
  /// Hidden layers including the first: fc1 + (hidden_layers - 1) convex
  /// layers. Default 3 (Fan et al. code, NUM_LAYERS = 3).
  int64_t hidden_layers = 3;
  /// Neurons per hidden layer. 0 = automatic: 2d (the paper's Gaussian
  /// setting, H = 2d) but at least 32 (the authors' 2-D/3-D default,
  /// cfg.py NUM_NEURON = 32; the paper's §4 "16 ~ 32 in 2D/3D").
  int64_t width = 0;
  /// CELU as in the authors' code (fg_activation='celu'); PReLU as in the
  /// paper text (one learnable slope per layer, initialised to 0.25).
  IcnnActivation activation = IcnnActivation::kCelu;
  /// z_1 = (act(p_0) + square_offset)^2 (authors' fc1_normal is squared,
  /// offset 0). With CELU and offset 0 the square is NOT convex where
  /// p_0 < -ln 2 (CELU(p)^2 = (e^p - 1)^2 bends down there), so neither is
  /// f; offset 1 makes it e^{2p} / (p + 1)^2, convex and increasing, and f
  /// convex for any weights with W, w >= 0 (tests/nn/picnn_test.cpp).
  bool square_first_layer = true;
  double square_offset = 0;  ///< the first layer squares (x W + b + offset)
  /// f(x) += (a . x + c)^2 (authors' last_linear, squared).
  bool quadratic_skip = true;

  /// This config with another width.
  IcnnConfig& with_width(int64_t w) { width = w; return *this; }
};

/// Width actually used for dimension `dim` (resolves width == 0).
int64_t resolved_icnn_width(const IcnnConfig& config, int64_t dim);

/// Non-owning view of the parameters of a stack of ICNNs (or of one
/// network of a stack, as a stack of one). Closed-form kernels take this.
struct IcnnWeights {
  std::vector<at::Tensor> A;      ///< A[l]: [K, H, d], l = 0..L-1
  std::vector<at::Tensor> b;      ///< b[l]: [K, 1, H]
  std::vector<at::Tensor> W;      ///< W[l-1] is W_l: [K, H, H], l = 1..L-1 (convex)
  at::Tensor w;                   ///< [K, H, 1] (convex)
  at::Tensor a;                   ///< [K, d, 1] (quadratic skip; undefined if off)
  at::Tensor c;                   ///< [K, 1, 1]
  std::vector<at::Tensor> slope;  ///< PReLU slopes [K, 1, 1] a layer (PReLU only)

  /// Network k alone, as a stack of one sharing storage.
  IcnnWeights select(int64_t k) const;
};

/// f_k(x_k) for x [K, B, d] -> [K, B]; autograd-differentiable.
at::Tensor icnn_value(const IcnnConfig& config, const IcnnWeights& weights, const at::Tensor& x);
/// grad f_k(x_k) by one reverse sweep, [K, B, d] -> [K, B, d]; no graph.
at::Tensor icnn_gradient(const IcnnConfig& config, const IcnnWeights& weights, const at::Tensor& x);

/// A stack of input-convex networks (Amos et al. 2017), one convex potential per marginal.
class IcnnPotential : public torch::nn::Module {
 public:
  /// `count` independent networks on R^dim. Weights initialised as
  /// PyTorch's nn.Linear (Kaiming-uniform, bound 1/sqrt(fan_in)), as the
  /// authors' code does. `config.width` must be resolved (> 0).
  ///
  /// All parameters live in one contiguous buffer (flat_parameters()),
  /// with a matching gradient buffer, so that an optimiser step is a few
  /// vector operations instead of a dozen per tensor. Change the dtype
  /// through this constructor, not Module::to (which would unshare them).
  IcnnPotential(int64_t count, int64_t dim, IcnnConfig config, at::Generator& gen,
                at::ScalarType dtype = at::kFloat, at::Device device = at::kCPU);

  /// Number of networks in the stack (one per marginal).
  int64_t count() const { return count_; }
  /// Input dimension d of each network.
  int64_t dim() const { return dim_; }
  /// The configuration it was built with.
  const IcnnConfig& config() const { return config_; }

  /// f_k(x_k) for x of shape [K, B, d]; returns [K, B]. Differentiable
  /// with autograd in both x and the parameters (the reference engine).
  at::Tensor value(const at::Tensor& x) const;

  /// grad f_k(x_k) in closed form by one reverse sweep (DESIGN.md §2),
  /// [K, B, d] -> [K, B, d]. No autograd graph is built.
  at::Tensor gradient(const at::Tensor& x) const;

  /// grad f_k through autograd: the reference for `gradient`, and the
  /// differentiable gradient map the reference engine trains with
  /// (create_graph = true gives the double-backward graph of the g-step).
  at::Tensor gradient_autograd(const at::Tensor& x, bool create_graph) const;

  /// The gradient map of network k alone on x of shape [n, d].
  at::Tensor gradient_of(int64_t k, const at::Tensor& x) const;
  /// The value of network k alone on x of shape [n, d]; returns [n].
  at::Tensor value_of(int64_t k, const at::Tensor& x) const;

  /// W_l <- max(W_l, 0) and w <- max(w, 0): the hard convexity constraint
  /// applied to f after every step (Fan et al. Alg. 1, "Clip").
  void clamp_convex_weights();

  /// sum_k sum_l ||max(-W_l, 0)||_F^2 over all K networks: the penalty
  /// R(theta) of Fan et al. eq. (10), without the factor lambda.
  at::Tensor convexity_violation() const;

  /// The parameters that must stay non-negative (W_l, w).
  std::vector<at::Tensor> convex_weights() const;

  /// The registered parameters (shared storage), for closed-form kernels.
  const IcnnWeights& weights() const { return weights_; }
  /// Views into flat_gradients() with the shapes of weights().
  const IcnnWeights& gradient_views() const { return grad_views_; }
  /// Every parameter, concatenated in registration order.
  const at::Tensor& flat_parameters() const { return flat_; }
  /// The gradient buffer, laid out as flat_parameters().
  const at::Tensor& flat_gradients() const { return flat_grad_; }
  /// Views of `flat` (laid out as flat_parameters(): an optimiser's moments,
  /// a gradient) with each parameter's shape, in registration order; row k
  /// of every view belongs to network k.
  std::vector<at::Tensor> parameter_views(const at::Tensor& flat) const;

  /// Copies the autograd gradients (.grad()) into flat_gradients(); zero
  /// where a parameter has none.
  void gather_gradients();
  /// Re-shares the parameters with flat_parameters() after something
  /// replaced their storage (Module::load does), keeping their values.
  void repack();

 private:
  IcnnWeights weights_;
  IcnnWeights grad_views_;
  at::Tensor flat_;
  at::Tensor flat_grad_;
  int64_t count_;
  int64_t dim_;
  IcnnConfig config_;
};

}  // namespace wbary::nn
