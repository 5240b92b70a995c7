// File: wbary/maps/potential.h
//
// Potentials f: R^d -> R whose gradient is a transport map (Brenier): the
// "what comes out" of a two-measure W2 map fit (Amos 2023, §2; reference/
// w2-maps.md §3.1). Two families:
//   - IcnnMapPotential: an input-convex network (the NWB issue's ICNN,
//     nn::IcnnPotential with one network) plus (1/2) exp(log_alpha) |x|^2,
//     kept convex by clamping after each optimiser step (project());
//   - MlpPotential: Amos's PotentialNN, a plain MLP with the activation on
//     every layer including the scalar output, plus (1/2) exp(log_alpha)|x|^2.
//     Not convex: the conjugate solver then finds a local minimiser, which
//     the paper shows is enough in practice.
// Both start exactly at the identity map (output layer zero, log_alpha = 0),
// which replaces the paper's identity pre-training (§3.1 "Identity
// pre-training") by an initialisation with the same effect.
//
// Example:
//   auto f = maps::make_potential(maps::PotentialKind::kMlp, /*dim=*/8, {}, gen, at::kFloat);
//   at::Tensor v = f->value(x);        // [B], differentiable in x and the parameters
//   at::Tensor t = f->gradient(x);     // [B, d]: the transport map grad f(x), no graph
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <memory>
#include <string>
#include <vector>

#include "wbary/nn/icnn.h"

namespace wbary::maps {

enum class PotentialKind { kIcnn, kMlp };
PotentialKind parse_potential_kind(const std::string& name);  ///< "icnn" | "mlp"
std::string to_string(PotentialKind kind);

/// Hidden widths for dimension d when none are given: Amos's and Korotin's
/// [2 max(d, 32), 2 max(d, 32), max(d, 32)] (reference/w2-maps.md §3.1).
std::vector<int64_t> default_hidden_widths(int64_t dim);

/// The potential of a W2 map: an ICNN or an MLP, as in Amos (2023).
class MapPotential : public torch::nn::Module {
 public:
  /// A potential on R^dim.
  explicit MapPotential(int64_t dim) : dim_(dim) {}
  /// Dimension d of the space.
  int64_t dim() const { return dim_; }

  /// f(x) for x [B, d] -> [B]; differentiable in x and the parameters.
  virtual at::Tensor value(const at::Tensor& x) const = 0;

  /// grad f(x), [B, d]. With create_graph the result is differentiable in
  /// the parameters and x (cycle losses); without, it carries no graph.
  /// The default goes through autograd; subclasses may give a closed form.
  virtual at::Tensor gradient(const at::Tensor& x, bool create_graph = false) const;

  /// f(x) [B] and grad f(x) [B, d] together, no graph: what the conjugate
  /// solver needs at each point it visits. The default calls value() and
  /// gradient(); the MLP computes both in one pass.
  virtual void value_and_gradient(const at::Tensor& x, at::Tensor& value, at::Tensor& gradient) const;

  /// Restores constraints after an optimiser step (ICNN: W >= 0).
  virtual void project() {}
  /// Whether f is convex by construction (then grad f is an OT map exactly).
  virtual bool convex() const = 0;

 private:
  int64_t dim_;
};

/// ICNN + (1/2) exp(log_alpha) |x|^2.
class IcnnMapPotential : public MapPotential {
 public:
  /// An ICNN potential with this config.
  IcnnMapPotential(int64_t dim, nn::IcnnConfig config, at::Generator& gen, at::ScalarType dtype);
  at::Tensor value(const at::Tensor& x) const override;
  at::Tensor gradient(const at::Tensor& x, bool create_graph = false) const override;
  void project() override { icnn_->clamp_convex_weights(); }
  bool convex() const override { return true; }
  /// Module::load replaces storages; re-share them with the flat buffer.
  void repack() { icnn_->repack(); }

 private:
  std::shared_ptr<nn::IcnnPotential> icnn_;
  at::Tensor log_alpha_;
};

/// Amos's PotentialNN: act(W_L ... act(W_1 x + b_1) ... + b_L) + (1/2) exp(log_alpha)|x|^2,
/// act = ELU.
class MlpPotential : public MapPotential {
 public:
  /// An MLP potential with these hidden widths. closed_form: gradient()
  /// and value_and_gradient() run the chain rule written out (one forward
  /// pass, ELU's derivative from its output: exp(a) = elu(a) + 1 for a <= 0)
  /// instead of autograd, which the reference (false) goes through.
  MlpPotential(int64_t dim, const std::vector<int64_t>& hidden, at::Generator& gen, at::ScalarType dtype,
               bool closed_form = true);
  at::Tensor value(const at::Tensor& x) const override;
  at::Tensor gradient(const at::Tensor& x, bool create_graph = false) const override;
  void value_and_gradient(const at::Tensor& x, at::Tensor& value, at::Tensor& gradient) const override;
  bool convex() const override { return false; }
  /// Whether the derivatives are written out (the constructor's closed_form).
  bool closed_form() const { return closed_form_; }

  /// E f(x) - E f(x') over the rows of x [B, d] and x' [B', d], and its
  /// gradient in every parameter written into their .grad (replacing it):
  /// the f-part of the W2 dual loss (Amos eq. 5), in one forward and one
  /// backward pass over [x; x'] with the chain rule written out.
  at::Tensor mean_difference_backward(const at::Tensor& x, const at::Tensor& x_prime);

 private:
  std::vector<at::Tensor> weight_, bias_;  ///< layer l: [out, in], [out]
  at::Tensor log_alpha_;
  bool closed_form_;
};

/// Builds a potential of the given kind; `hidden` empty = default widths.
/// The ICNN uses hidden[0] as its width and hidden.size() as its depth.
/// closed_form: the MLP's derivatives written out (false: autograd, the reference).
std::shared_ptr<MapPotential> make_potential(PotentialKind kind, int64_t dim, std::vector<int64_t> hidden,
                                             at::Generator& gen, at::ScalarType dtype, bool closed_form = true);

/// An MLP x -> x + MLP(x) with ELU and a zero output layer (Amos's InitNN):
/// the amortisation model predicting the conjugate's argmin x_hat(y).
class ResidualMlp : public torch::nn::Module {
 public:
  /// y -> y + MLP(y), initialised near the identity.
  ResidualMlp(int64_t dim, const std::vector<int64_t>& hidden, at::Generator& gen, at::ScalarType dtype);
  /// The amortized prediction for y [n, d].
  at::Tensor forward(const at::Tensor& y) const;
  /// E|H(y) - target|^2 (mean over all entries, the regression amortization
  /// loss) and its gradient in every parameter written into their .grad
  /// (replacing it), with the chain rule written out; no autograd graph.
  at::Tensor regression_backward(const at::Tensor& y, const at::Tensor& target);

 private:
  std::vector<at::Tensor> weight_, bias_;
};

}  // namespace wbary::maps
