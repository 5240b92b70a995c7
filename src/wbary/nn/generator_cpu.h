// File: wbary/nn/generator_cpu.h
//
// NWB's h-update on the CPU without an autograd graph: the generator's
// forward pass in train mode, keeping what its reverse sweep needs, and the
// parameters' gradients for a given d/dh(z), written out layer by layer
// (Linear, BatchNorm on batch statistics, PReLU with one slope) over raw
// memory, as nn/icnn_cpu.h does for the potentials. At the paper's sizes
// (batch 100, width 10-32) LibTorch's autograd spent more in graph and
// dispatch than in arithmetic: h's forward and backward were ~8 % of an
// outer iteration at d = 16 (perf, BENCHMARKS.md).
//
// The numbers are the module's: the same forward output, the same
// BatchNorm running statistics afterwards (momentum update, unbiased
// variance, num_batches_tracked), gradients added to .grad() as
// backward() would (tests/nn/generator_test.cpp checks all three against
// autograd), except that a Linear's bias in front of a BatchNorm gets its
// exact gradient, zero, rather than a sum of round-off: Adam normalises
// round-off into a random walk of the bias, which the running mean then
// trails (with this pass's round-off there, h's BW2-UVP at d = 16 was
// ~25 % worse than autograd's over 6 seeds; with the zero, the same:
// BENCHMARKS.md).
//
// Example:
//   nn::cpu::GeneratorTrainingPass pass;
//   at::Tensor mu = pass.forward(h, z);          // h(z), no graph
//   pass.backward(h, dmu);                       // h's .grad() += d/dtheta <dmu, h(z)>
//
// NWB-II's h(z, w) (nn/conditional_generator.h) trains with one w per batch,
// so its FiLM and output scales and shifts are per-feature constants of the
// batch: ConditionalGeneratorTrainingPass runs the body with those as a
// modulation and carries their gradients back to the linear maps of w.
#pragma once

#include <vector>

#include "wbary/nn/generator.h"

namespace wbary::nn {
class ConditionalGeneratorImpl;
}

namespace wbary::nn::cpu {

/// A per-feature scale and shift of one hidden block, constant over the
/// batch ([width] each): GeneratorImpl::forward's modulation with one row.
struct Modulation {
  at::Tensor scale;  ///< multiplies the block's features, [width]
  at::Tensor shift;  ///< then added, [width]
};

/// h's forward pass in train mode and its reverse sweep for the parameters'
/// gradients, outside autograd (one pass object per generator; it keeps the
/// last forward's tape for backward()).
class GeneratorTrainingPass {
 public:
  /// Whether this pass can run `h`: parameters on the CPU in float32 or
  /// float64, BatchNorm with a momentum (not a cumulative average).
  static bool supported(GeneratorImpl& h);

  /// h(z) for z [B, latent] in train mode; updates BatchNorm's running
  /// statistics as the module's forward does. B >= 2 with BatchNorm.
  /// modulation: none, or one per hidden block (as GeneratorImpl::forward's).
  at::Tensor forward(GeneratorImpl& h, const at::Tensor& z, std::vector<Modulation> modulation = {});

  /// Adds d/dtheta sum(cotangent * h(z)) for the last forward's z to the
  /// parameters' .grad() (allocated where undefined); cotangent [B, dim].
  /// With modulation_gradient, also d/d(scale, shift) of each hidden block.
  void backward(GeneratorImpl& h, const at::Tensor& cotangent, std::vector<Modulation>* modulation_gradient = nullptr);

 private:
  // The tape, per layer l: its input [B, in], BatchNorm's normalised
  // pre-activation [B, out] and 1 / sqrt(var + eps) [out] (undefined without
  // one), the modulation's input [B, out] (undefined without one), the
  // PReLU's input [B, out] (undefined without one).
  std::vector<at::Tensor> inputs_, xhats_, invstds_, mod_ins_, act_ins_;
  std::vector<Modulation> modulation_;
};

/// NWB-II's h(z, c) = (1 + S c) o G([z, c]; FiLM(c)) + T c in train mode for
/// one context c per batch, and its reverse sweep, outside autograd: the same
/// numbers as the module's forward and backward (tests/nn/generator_test.cpp).
class ConditionalGeneratorTrainingPass {
 public:
  /// Whether this pass can run `h` (its body as GeneratorTrainingPass::supported).
  static bool supported(ConditionalGeneratorImpl& h);
  /// h(z, c) for z [B, latent] and one context c [m].
  at::Tensor forward(ConditionalGeneratorImpl& h, const at::Tensor& z, const at::Tensor& c);
  /// Adds d/dtheta sum(cotangent * h(z, c)) for the last forward to the parameters' .grad().
  void backward(ConditionalGeneratorImpl& h, const at::Tensor& cotangent);

 private:
  GeneratorTrainingPass body_;
  at::Tensor context_, output_scale_, body_out_;
};

}  // namespace wbary::nn::cpu
