#include "wbary/barycenter/all_weights_barycenter_config.h"

#include <nlohmann/json.hpp>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

config::FieldList fields(AllWeightsBarycenterConfig& c) {
  config::FieldList f;
  f.group("NWB-II, barycenters of all weights (Fan et al. 2021 §B; Algorithm 1's defaults as NWB)");
  add_algorithm_fields(f, c);
  f.add("dirichlet_concentration", c.dirichlet_concentration, "training weight vectors ~ Dirichlet(alpha, ..., alpha)")
      .add("weight_repeat", c.weight_repeat, "outer iterations each weight vector is held for")
      .add("vertex_fraction", c.vertex_fraction, "share of weight draws that are a vertex e_k")
      .add("g_batch_size", c.g_batch_size,
           "samples per g-step: the g-steps take slices of this size of the batch in turn; 0 (or >= the batch) = the whole batch")
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
      .add("batch_norm_from_dim", c.batch_norm_from_dim, "BatchNorm in h when d >= this")
      .add("generator_film", c.generator_film, "scale and shift each hidden block of h (after its BatchNorm, if any) by functions of w (FiLM)")
      .add("generator_final_activation", c.generator.final_activation, "PReLU on h's output")
      .add("latent_dim", c.latent_dim, "dimension of Z; 0 = d");
  return f;
}

void validate(const AllWeightsBarycenterConfig& c) {
  using config::require_at_least;
  validate_algorithm(c);
  require_at_least("--hidden-layers", c.potential.convex.hidden_layers, 1);
  require_at_least("--width", c.potential.convex.width, 0);
  require_at_least("--context-width", c.potential.context_width, 0);
  require_at_least("--generator-layers", c.generator.hidden_layers, 0);
  require_at_least("--generator-width", c.generator.width, 0);
  require_at_least("--latent-dim", c.latent_dim, 0);
  require_at_least("--batch-norm-from-dim", c.batch_norm_from_dim, 1);
  require_at_least("--weight-repeat", c.weight_repeat, 1);
  require_at_least("--g-batch-size", c.g_batch_size, 0);
  require_at_least("--log-every", c.log_every, 1);
  config::require_positive("--dirichlet-concentration", c.dirichlet_concentration);
  config::require_fraction("--vertex-fraction", c.vertex_fraction);
  training::validate_device(c.device);
  config::require_dtype(c.dtype);
}

AllWeightsBarycenterConfig resolved(AllWeightsBarycenterConfig c, int64_t dim, int64_t count) {
  c.potential = nn::resolved(c.potential, dim, count);
  c.generator.width = nn::resolved_generator_width(c.generator, dim);
  c.generator.batch_norm = dim >= c.batch_norm_from_dim;
  if (c.latent_dim == 0) c.latent_dim = dim;
  return c;
}

nlohmann::json to_json(const AllWeightsBarycenterConfig& c) {
  AllWeightsBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(AllWeightsBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
