#include "wbary/barycenter/neural_barycenter_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

std::string to_string(Convexity c) { return c == Convexity::kClamp ? "clamp" : "penalty"; }

Convexity parse_convexity(const std::string& name) {
  if (name == "clamp") return Convexity::kClamp;
  if (name == "penalty") return Convexity::kPenalty;
  throw InvalidArgument("convexity '" + name + "': expected 'clamp' or 'penalty'");
}

double learning_rate_factor(const AlgorithmOneConfig& c, int64_t step, double progress) {
  if (c.iterations <= 0) return std::pow(c.lr_decay, static_cast<double>(step / c.lr_decay_every));
  // The 1e-9 keeps a decay point that falls on a step exactly (progress =
  // k every / iterations, rounded) from landing one step late.
  const double decays = progress * static_cast<double>(c.iterations) / static_cast<double>(c.lr_decay_every);
  return std::pow(c.lr_decay, std::floor(decays + 1e-9));
}

void validate_algorithm(const AlgorithmOneConfig& c) {
  using config::require_at_least;
  using config::require_positive;
  require_at_least("--iterations", c.iterations, 0);
  config::require_non_negative("--schedule-seconds", c.schedule_seconds);
  require_at_least("--batch-size", c.batch_size, 2);  // BatchNorm needs 2 samples
  require_at_least("--g-steps", c.g_steps, 1);
  require_at_least("--f-steps", c.f_steps, 1);
  require_at_least("--lr-decay-every", c.lr_decay_every, 1);
  require_positive("--lr-f", c.lr_f);
  require_positive("--lr-g", c.lr_g);
  require_positive("--lr-h", c.lr_h);
  require_positive("--lr-decay", c.lr_decay);
  config::require_fraction("--adam-beta1", c.adam_beta1);
  config::require_fraction("--adam-beta2", c.adam_beta2);
  config::require_non_negative("--convexity-penalty", c.convexity_penalty);
  config::require_fraction("--averaging", c.averaging);
}

void validate(const NeuralBarycenterConfig& c) {
  using config::require_at_least;
  using config::require_positive;
  validate_algorithm(c);
  require_at_least("--hidden-layers", c.potential.hidden_layers, 1);
  require_at_least("--width", c.potential.width, 0);
  require_at_least("--generator-layers", c.generator.hidden_layers, 0);
  require_at_least("--generator-width", c.generator.width, 0);
  require_at_least("--latent-dim", c.latent_dim, 0);
  require_at_least("--log-every", c.log_every, 1);
  require_at_least("--pretrain-iterations", c.pretrain_iterations, 0);
  config::require_non_negative("--pretrain-tolerance", c.pretrain_tolerance);
  require_positive("--pretrain-scale", c.pretrain_scale);
  config::require_non_negative("--pretrain-seconds", c.pretrain_seconds);
  training::validate_device(c.device);
  config::require_dtype(c.dtype);
}

void add_algorithm_fields(config::FieldList& f, AlgorithmOneConfig& c) {
  f.add("iterations", c.iterations, "outer iterations K_3 (24000 = 40 epochs of 600 batches)")
      .add("batch_size", c.batch_size, "samples per marginal and step, M")
      .add("g_steps", c.g_steps, "g-updates per f-update, K_1")
      .add("f_steps", c.f_steps, "f-updates per h-update, K_2")
      .add("lr_f", c.lr_f, "Adam learning rate of the potentials f_i")
      .add("lr_g", c.lr_g, "Adam learning rate of the potentials g_i")
      .add("lr_h", c.lr_h, "Adam learning rate of the generator h")
      .add("adam_beta1", c.adam_beta1, "Adam beta_1 of every network")
      .add("adam_beta2", c.adam_beta2, "Adam beta_2 of every network")
      .add("lr_decay_every", c.lr_decay_every, "multiply learning rates by --lr-decay every k steps")
      .add("lr_decay", c.lr_decay, "learning-rate decay factor")
      .add("schedule_seconds", c.schedule_seconds,
           "plan the run's decay over this many seconds of training, at most --iterations steps (0 = off); use with "
           "--time-limit and a real --iterations")
      .choice("f_convexity", c.f_convexity, {{"clamp", Convexity::kClamp}, {"penalty", Convexity::kPenalty}},
              "how f keeps W >= 0: clamp | penalty")
      .choice("g_convexity", c.g_convexity, {{"clamp", Convexity::kClamp}, {"penalty", Convexity::kPenalty}},
              "how g keeps W >= 0: clamp | penalty")
      .add("convexity_penalty", c.convexity_penalty, "lambda of R(theta), eq. (10)")
      .add("averaging", c.averaging, "EMA decay of the output networks' parameters per step, ramped as (1 + t) / (10 + t) (0 = last iterate)");
}

config::FieldList fields(NeuralBarycenterConfig& c) {
  config::FieldList f;
  f.group("Algorithm 1 (defaults: Fan et al. 2021 code)");
  add_algorithm_fields(f, c);
  f.add("pretrain_iterations", c.pretrain_iterations,
           "start f_i, g_i at |x|^2/2 with at most this many fitting steps (0 = random start, the authors')")
      .add("pretrain_tolerance", c.pretrain_tolerance, "stop pre-training below this MSE")
      .add("pretrain_scale", c.pretrain_scale, "pre-train on x ~ scale * N(0, I)")
      .add("pretrain_seconds", c.pretrain_seconds, "stop pre-training after this many seconds (0 = none; "
                                                   "--time-limit sets it)")
      .choice("engine", c.engine, {{"fused", Engine::kFused}, {"autograd", Engine::kAutograd}},
              "fused (closed-form derivatives) | autograd (reference)")
      .add("seed", c.seed, "seeds networks, batches and latents")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  f.group("NWB networks")
      .add("hidden_layers", c.potential.hidden_layers, "ICNN hidden layers (f_i, g_i)")
      .add("width", c.potential.width, "ICNN width; 0 = max(2d, 32)")
      .choice("activation", c.potential.activation,
              {{"celu", nn::IcnnActivation::kCelu}, {"prelu", nn::IcnnActivation::kPrelu}},
              "ICNN activation: celu | prelu")
      .add("square_first_layer", c.potential.square_first_layer, "square the first ICNN layer")
      .add("square_offset", c.potential.square_offset,
           "z_1 = (act(p_0) + offset)^2; 1 keeps a CELU network convex, 0 is the authors'")
      .add("quadratic_skip", c.potential.quadratic_skip, "add (a.x + c)^2 to the ICNN")
      .add("generator_layers", c.generator.hidden_layers, "hidden Linear+BN+PReLU blocks of h")
      .add("generator_width", c.generator.width, "width of h; 0 = the paper's table, >= 32")
      .add("generator_batch_norm", c.generator.batch_norm, "BatchNorm in h")
      .add("generator_final_activation", c.generator.final_activation, "PReLU on h's output")
      .add("latent_dim", c.latent_dim, "dimension of Z; 0 = d");
  return f;
}

nlohmann::json to_json(const NeuralBarycenterConfig& c) {
  NeuralBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(NeuralBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
