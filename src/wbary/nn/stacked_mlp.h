// File: wbary/nn/stacked_mlp.h
//
// K independent scalar ReLU networks R^d -> R evaluated together by batched
// matrix products (weights [K, in, out]), as IcnnPotential stacks the ICNNs:
// the N source-side and N barycenter-side potentials of CRWB (Li et al. 2020:
// unconstrained Dense(128)-ReLU-Dense(256)-ReLU-Dense(1)) cost one call each.
// Initialised as Keras' Dense layers, which the authors used: Glorot-uniform
// weights, zero biases.
//
// Example:
//   nn::StackedMlp f(/*count=*/3, /*dim=*/2, {128, 256}, gen);
//   at::Tensor v = f->forward(x);            // x [3, B, 2] -> [3, B]
//   at::Tensor g = f->gradient_of(0, y);     // grad f_0(y), [n, 2]
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace wbary::nn {

/// N independent MLPs evaluated as one batched network.
class StackedMlpImpl : public torch::nn::Module {
 public:
  /// count MLPs dim -> hidden... -> dim.
  StackedMlpImpl(int64_t count, int64_t dim, std::vector<int64_t> hidden, at::Generator& gen);

  /// Number of MLPs in the stack.
  int64_t count() const { return count_; }
  /// Input and output dimension d of each MLP.
  int64_t dim() const { return dim_; }

  /// f_k(x_k) for x [K, B, d] -> [K, B]; autograd-differentiable.
  at::Tensor forward(const at::Tensor& x) const;
  /// grad f_k(x) of network k alone at x [n, d] -> [n, d], by autograd; no graph kept.
  at::Tensor gradient_of(int64_t k, const at::Tensor& x) const;

 private:
  std::vector<at::Tensor> weight_;  ///< [K, in, out]
  std::vector<at::Tensor> bias_;    ///< [K, 1, out]
  int64_t count_;
  int64_t dim_;
};
TORCH_MODULE(StackedMlp);

}  // namespace wbary::nn
