#include "wbary/barycenter/regularized_barycenter_config.h"

#include <nlohmann/json.hpp>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

config::FieldList fields(RegularizedBarycenterConfig& c) {
  config::FieldList f;
  f.group("CRWB (Li et al. 2020; defaults: the authors' Gaussian template)")
      .choice("regularizer", c.regularizer, {{"l2", Regularizer::kL2}, {"entropic", Regularizer::kEntropic}},
              "R_eps: l2 | entropic")
      .add("epsilon", c.epsilon, "regularisation strength (un-halved cost)")
      .add("scale_epsilon", c.scale_epsilon, "multiply epsilon by diam^2 / 10 of the reference box")
      .add("box_quantile", c.box_quantile, "trim each axis of the reference box at this quantile (1 = min/max)")
      .add("box_samples", c.box_samples, "pooled samples that fix the reference box and the marginals' means")
      .add("hidden1", c.hidden1, "first hidden layer of f_i, g_i")
      .add("hidden2", c.hidden2, "second hidden layer of f_i, g_i")
      .add("iterations", c.iterations, "training steps")
      .add("batch_size", c.batch_size, "samples per marginal and step (and of the reference box)")
      .add("lr", c.lr, "Adam learning rate of every network")
      .add("averaging", c.averaging, "EMA decay of the potentials used for sampling (0 = last iterate)")
      .add("representative_samples", c.representative_samples, "samples per marginal that re-centre its push")
      .add("seed", c.seed, "seeds networks and batches")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  return f;
}

void validate(const RegularizedBarycenterConfig& c) {
  using config::require_at_least;
  require_at_least("--iterations", c.iterations, 0);
  require_at_least("--batch-size", c.batch_size, 1);
  require_at_least("--hidden1", c.hidden1, 1);
  require_at_least("--hidden2", c.hidden2, 1);
  require_at_least("--box-samples", c.box_samples, 2);
  require_at_least("--representative-samples", c.representative_samples, 1);
  require_at_least("--log-every", c.log_every, 1);
  config::require_positive("--epsilon", c.epsilon);
  config::require_positive("--lr", c.lr);
  if (!(c.box_quantile > 0.5 && c.box_quantile <= 1)) {
    throw InvalidArgument("--box-quantile: got " + std::to_string(c.box_quantile) + ", expected in (0.5, 1]");
  }
  config::require_fraction("--averaging", c.averaging);
  training::validate_device(c.device);
  config::require_dtype(c.dtype);
}

nlohmann::json to_json(const RegularizedBarycenterConfig& c) {
  RegularizedBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(RegularizedBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
