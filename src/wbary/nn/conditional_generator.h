// File: wbary/nn/conditional_generator.h
//
// A generator conditioned on a context c (NWB-II's weight vector):
//
//   h(z, c) = (1 + S c) o G([z, c]; FiLM_l(c)) + T c
//
// G is NWB's generator (nn/generator.h) on the latent and the context
// together (the authors' Different_Weights_NormalNet); S, T are linear and
// start at zero. Why the affine output: NWB-II trains with one c per batch,
// and G's BatchNorm normalises each batch, so G alone loses most of how c
// moves and scales its output (the barycenter's mean is linear in the
// weights, sum_i w_i m_i); the output map gives both back directly. For the
// same reason each hidden block's features (after its BatchNorm, if any)
// can be scaled and shifted by (1 + A_l c, B_l c) (FiLM, Perez et al. 2018;
// A_l, B_l start at zero; optional): a batch's c then moves every hidden
// layer, not only the input layer whose c-dependent part the next BatchNorm
// subtracts again; without BatchNorm it gives c a multiplicative path.
//
// Example:
//   nn::ConditionalGenerator h(/*latent=*/2, /*context=*/3, /*dim=*/2, nn::GeneratorConfig{}, /*film=*/false, gen);
//   at::Tensor y = h->forward(z, w.expand({z.size(0), 3}));
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "wbary/nn/generator.h"

namespace wbary::nn {

/// NWB-II's generator h(z, w): the barycenter's sampler for any weight vector w.
class ConditionalGeneratorImpl : public torch::nn::Module {
 public:
  /// A generator from latent_dim + context_dim (the weights) inputs to dim outputs.
  /// film: each hidden block's features scaled and shifted by (1 + A_l c, B_l c).
  ConditionalGeneratorImpl(int64_t latent_dim, int64_t context_dim, int64_t dim, GeneratorConfig config, bool film,
                           at::Generator& gen);
  /// z [n, latent], c [n, context] -> [n, dim].
  at::Tensor forward(const at::Tensor& z, const at::Tensor& c);
  /// Dimension of the generator's latent space.
  int64_t latent_dim() const { return latent_dim_; }
  /// G (nn/generator_cpu.h's training pass runs it with FiLM as a modulation).
  Generator& body() { return body_; }
  /// S, [dim, context]: the output's scale is 1 + S c.
  const at::Tensor& output_scale() const { return scale_; }
  /// T, [dim, context]: the output's shift is T c.
  const at::Tensor& output_shift() const { return shift_; }
  /// A_l, [width, context] each: hidden block l's FiLM scale is 1 + A_l c (empty without FiLM).
  const std::vector<at::Tensor>& film_scales() const { return film_scale_; }
  /// B_l, [width, context] each: hidden block l's FiLM shift is B_l c (empty without FiLM).
  const std::vector<at::Tensor>& film_shifts() const { return film_shift_; }

 private:
  Generator body_{nullptr};
  at::Tensor scale_, shift_;  ///< S, T: [dim, context]
  std::vector<at::Tensor> film_scale_, film_shift_;  ///< A_l, B_l: [width, context], one per hidden block
  int64_t latent_dim_;
};
TORCH_MODULE(ConditionalGenerator);

}  // namespace wbary::nn
