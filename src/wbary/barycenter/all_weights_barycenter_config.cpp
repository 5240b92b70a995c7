#include "wbary/barycenter/all_weights_barycenter_config.h"

#include <nlohmann/json.hpp>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

config::FieldList fields(AllWeightsBarycenterConfig& c) {
  config::FieldList f;
  f.group("NWB-II, barycenters of all weights (Fan et al. 2021 §B; Algorithm 1's defaults as NWB)")
      .add("iterations", c.iterations, "outer iterations K_3")
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
      .choice("f_convexity", c.f_convexity, {{"clamp", Convexity::kClamp}, {"penalty", Convexity::kPenalty}},
              "how f keeps W >= 0: clamp | penalty")
      .choice("g_convexity", c.g_convexity, {{"clamp", Convexity::kClamp}, {"penalty", Convexity::kPenalty}},
              "how g keeps W >= 0: clamp | penalty")
      .add("convexity_penalty", c.convexity_penalty, "lambda of R(theta), eq. (10)")
      .add("averaging", c.averaging, "EMA decay of the output networks' parameters per step (0 = last iterate)")
      .add("dirichlet_concentration", c.dirichlet_concentration,
           "training weight vectors ~ Dirichlet(alpha, ..., alpha)")
      .add("weight_repeat", c.weight_repeat, "outer iterations each weight vector is held for")
      .add("vertex_fraction", c.vertex_fraction, "share of weight draws that are a vertex e_k")
      .choice("engine", c.engine, {{"fused", nn::Engine::kFused}, {"autograd", nn::Engine::kAutograd}},
              "fused (closed-form derivatives) | autograd (reference)")
      .add("seed", c.seed, "seeds networks, batches, latents and weights")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  f.group("NWB-II networks")
      .add("hidden_layers", c.potential.convex.hidden_layers, "PICNN convex-path layers (f_i, g_i)")
      .add("width", c.potential.convex.width, "PICNN convex-path width; 0 = max(2d, 32)")
      .choice("activation", c.potential.convex.activation,
              {{"celu", nn::IcnnActivation::kCelu}, {"prelu", nn::IcnnActivation::kPrelu}},
              "convex-path activation: celu | prelu")
      .add("square_first_layer", c.potential.convex.square_first_layer, "square the first convex-path layer")
      .add("square_offset", c.potential.convex.square_offset,
           "z_1 = (act(p_0) + offset)^2; 1 keeps a CELU network convex, 0 is the authors'")
      .add("quadratic_skip", c.potential.convex.quadratic_skip, "add (a(w).x + c(w))^2")
      .add("context_width", c.potential.context_width, "PICNN weight-path width; 0 = max(4N, 16)")
      .add("generator_layers", c.generator.hidden_layers, "hidden blocks of h(z, w)")
      .add("generator_width", c.generator.width, "width of h; 0 = the paper's table, >= 32")
      .add("generator_batch_norm", c.generator.batch_norm, "BatchNorm in h")
      .add("generator_final_activation", c.generator.final_activation, "PReLU on h's output")
      .add("latent_dim", c.latent_dim, "dimension of Z; 0 = d");
  return f;
}

void validate(const AllWeightsBarycenterConfig& c) {
  using config::require_at_least;
  using config::require_positive;
  require_at_least("--iterations", c.iterations, 0);
  require_at_least("--batch-size", c.batch_size, 2);
  require_at_least("--g-steps", c.g_steps, 1);
  require_at_least("--f-steps", c.f_steps, 1);
  require_at_least("--hidden-layers", c.potential.convex.hidden_layers, 1);
  require_at_least("--width", c.potential.convex.width, 0);
  require_at_least("--context-width", c.potential.context_width, 0);
  require_at_least("--generator-layers", c.generator.hidden_layers, 0);
  require_at_least("--generator-width", c.generator.width, 0);
  require_at_least("--latent-dim", c.latent_dim, 0);
  require_at_least("--lr-decay-every", c.lr_decay_every, 1);
  require_at_least("--weight-repeat", c.weight_repeat, 1);
  require_at_least("--log-every", c.log_every, 1);
  require_positive("--lr-f", c.lr_f);
  require_positive("--lr-g", c.lr_g);
  require_positive("--lr-h", c.lr_h);
  require_positive("--lr-decay", c.lr_decay);
  require_positive("--dirichlet-concentration", c.dirichlet_concentration);
  config::require_fraction("--adam-beta1", c.adam_beta1);
  config::require_fraction("--adam-beta2", c.adam_beta2);
  config::require_fraction("--vertex-fraction", c.vertex_fraction);
  config::require_non_negative("--convexity-penalty", c.convexity_penalty);
  config::require_fraction("--averaging", c.averaging);
  training::validate_device(c.device);
  config::require_dtype(c.dtype);
}

AllWeightsBarycenterConfig resolved(AllWeightsBarycenterConfig c, int64_t dim, int64_t count) {
  c.potential = nn::resolved(c.potential, dim, count);
  c.generator.width = nn::resolved_generator_width(c.generator, dim);
  if (c.latent_dim == 0) c.latent_dim = dim;
  return c;
}

nlohmann::json to_json(const AllWeightsBarycenterConfig& c) {
  AllWeightsBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(AllWeightsBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
