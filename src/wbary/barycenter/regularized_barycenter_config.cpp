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
  auto at_least = [](const char* flag, int64_t v, int64_t lo) {
    if (v < lo) {
      throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected >= " + std::to_string(lo));
    }
  };
  at_least("--iterations", c.iterations, 0);
  at_least("--batch-size", c.batch_size, 1);
  at_least("--hidden1", c.hidden1, 1);
  at_least("--hidden2", c.hidden2, 1);
  at_least("--box-samples", c.box_samples, 2);
  at_least("--representative-samples", c.representative_samples, 1);
  at_least("--log-every", c.log_every, 1);
  if (!(c.epsilon > 0)) throw InvalidArgument("--epsilon: got " + std::to_string(c.epsilon) + ", expected > 0");
  if (!(c.lr > 0)) throw InvalidArgument("--lr: got " + std::to_string(c.lr) + ", expected > 0");
  if (!(c.box_quantile > 0.5 && c.box_quantile <= 1)) throw InvalidArgument("--box-quantile: expected in (0.5, 1]");
  if (!(c.averaging >= 0 && c.averaging < 1)) throw InvalidArgument("--averaging: expected in [0, 1)");
  training::validate_device(c.device);
  if (c.dtype != "float32" && c.dtype != "float64") {
    throw InvalidArgument("--dtype: got '" + c.dtype + "', expected float32 or float64");
  }
}

nlohmann::json to_json(const RegularizedBarycenterConfig& c) {
  RegularizedBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(RegularizedBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
