#include "wbary/barycenter/continuous_barycenter_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

config::FieldList fields(ContinuousBarycenterConfig& c) {
  config::FieldList f;
  f.group("CWB (Korotin et al. 2021; defaults: the authors' notebook)")
      .add("iterations", c.iterations, "training steps")
      .add("batch_size", c.batch_size, "samples per marginal and step")
      .add("proposal_samples", c.proposal_samples, "N(0, I) samples in the congruence sample")
      .add("cycle_weight", c.cycle_weight, "lambda of the cycle term")
      .add("congruence_weight", c.congruence_weight, "lambda of the congruence term")
      .add("lr", c.lr, "Adam learning rate of every network")
      .add("psi_beta1", c.psi_beta1, "Adam beta_1 of psi_i")
      .add("psi_beta2", c.psi_beta2, "Adam beta_2 of psi_i")
      .add("conjugate_beta1", c.conjugate_beta1, "Adam beta_1 of psibar_i")
      .add("conjugate_beta2", c.conjugate_beta2, "Adam beta_2 of psibar_i")
      .add("pretrain_iterations", c.pretrain_iterations, "at most this many steps fitting grad D(x) = x")
      .add("pretrain_tolerance", c.pretrain_tolerance, "stop pre-training below this MSE")
      .add("pretrain_scale", c.pretrain_scale, "pre-train on x ~ scale * N(0, I)")
      .add("pretrain_seconds", c.pretrain_seconds, "stop pre-training after this many seconds (0 = none; "
                                                   "--time-limit sets it)")
      .choice("engine", c.engine, {{"fused", nn::Engine::kFused}, {"autograd", nn::Engine::kAutograd}},
              "fused (closed-form derivatives) | autograd (reference)")
      .add("seed", c.seed, "seeds networks and batches")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  f.group("CWB networks")
      .add("hidden_layers", c.potential.hidden_layers, "ICNN hidden layers (psi_i, psibar_i)")
      .add("width", c.potential.width, "ICNN width; 0 = max(2d, 64)")
      .choice("activation", c.potential.activation,
              {{"celu", nn::IcnnActivation::kCelu}, {"prelu", nn::IcnnActivation::kPrelu}},
              "ICNN activation: celu | prelu")
      .add("square_first_layer", c.potential.square_first_layer, "square the first ICNN layer")
      .add("square_offset", c.potential.square_offset,
           "z_1 = (act(p_0) + offset)^2; 1 keeps a CELU network convex, 0 is the authors'")
      .add("quadratic_skip", c.potential.quadratic_skip, "add (a.x + c)^2 to the ICNN");
  return f;
}

ContinuousBarycenterConfig resolved(ContinuousBarycenterConfig c, int64_t dim) {
  if (c.potential.width == 0) c.potential.width = std::max<int64_t>(64, 2 * dim);
  return c;
}

void validate(const ContinuousBarycenterConfig& c) {
  using config::require_at_least;
  using config::require_fraction;
  require_at_least("--iterations", c.iterations, 0);
  require_at_least("--batch-size", c.batch_size, 1);
  require_at_least("--proposal-samples", c.proposal_samples, 0);
  require_at_least("--hidden-layers", c.potential.hidden_layers, 1);
  require_at_least("--width", c.potential.width, 0);
  require_at_least("--pretrain-iterations", c.pretrain_iterations, 0);
  require_at_least("--log-every", c.log_every, 1);
  config::require_positive("--lr", c.lr);
  config::require_positive("--pretrain-scale", c.pretrain_scale);
  config::require_non_negative("--cycle-weight", c.cycle_weight);
  config::require_non_negative("--congruence-weight", c.congruence_weight);
  config::require_non_negative("--pretrain-tolerance", c.pretrain_tolerance);
  config::require_non_negative("--pretrain-seconds", c.pretrain_seconds);
  require_fraction("--psi-beta1", c.psi_beta1);
  require_fraction("--psi-beta2", c.psi_beta2);
  require_fraction("--conjugate-beta1", c.conjugate_beta1);
  require_fraction("--conjugate-beta2", c.conjugate_beta2);
  training::validate_device(c.device);
  config::require_dtype(c.dtype);
}

nlohmann::json to_json(const ContinuousBarycenterConfig& c) {
  ContinuousBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(ContinuousBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
