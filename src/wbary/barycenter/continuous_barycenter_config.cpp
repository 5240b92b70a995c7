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
      .add("quadratic_skip", c.potential.quadratic_skip, "add (a.x + c)^2 to the ICNN");
  return f;
}

ContinuousBarycenterConfig resolved(ContinuousBarycenterConfig c, int64_t dim) {
  if (c.potential.width == 0) c.potential.width = std::max<int64_t>(64, 2 * dim);
  return c;
}

void validate(const ContinuousBarycenterConfig& c) {
  auto at_least = [](const char* flag, int64_t v, int64_t lo) {
    if (v < lo) {
      throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected >= " + std::to_string(lo));
    }
  };
  auto positive = [](const char* flag, double v) {
    if (!(v > 0)) throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected > 0");
  };
  auto beta = [](const char* flag, double v) {
    if (!(v >= 0 && v < 1)) throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected in [0, 1)");
  };
  at_least("--iterations", c.iterations, 0);
  at_least("--batch-size", c.batch_size, 1);
  at_least("--proposal-samples", c.proposal_samples, 0);
  at_least("--hidden-layers", c.potential.hidden_layers, 1);
  at_least("--width", c.potential.width, 0);
  at_least("--pretrain-iterations", c.pretrain_iterations, 0);
  at_least("--log-every", c.log_every, 1);
  positive("--lr", c.lr);
  positive("--pretrain-scale", c.pretrain_scale);
  if (!(c.cycle_weight >= 0)) throw InvalidArgument("--cycle-weight: expected >= 0");
  if (!(c.congruence_weight >= 0)) throw InvalidArgument("--congruence-weight: expected >= 0");
  if (!(c.pretrain_tolerance >= 0)) throw InvalidArgument("--pretrain-tolerance: expected >= 0");
  beta("--psi-beta1", c.psi_beta1);
  beta("--psi-beta2", c.psi_beta2);
  beta("--conjugate-beta1", c.conjugate_beta1);
  beta("--conjugate-beta2", c.conjugate_beta2);
  training::validate_device(c.device);
  if (c.dtype != "float32" && c.dtype != "float64") {
    throw InvalidArgument("--dtype: got '" + c.dtype + "', expected float32 or float64");
  }
}

nlohmann::json to_json(const ContinuousBarycenterConfig& c) {
  ContinuousBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(ContinuousBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
