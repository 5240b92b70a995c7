#include "wbary/barycenter/neural_barycenter_config.h"

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

std::string to_string(Engine e) { return e == Engine::kFused ? "fused" : "autograd"; }

Engine parse_engine(const std::string& name) {
  if (name == "fused") return Engine::kFused;
  if (name == "autograd") return Engine::kAutograd;
  throw InvalidArgument("engine '" + name + "': expected 'fused' or 'autograd'");
}

void validate(const NeuralBarycenterConfig& c) {
  auto positive = [](const char* flag, double v) {
    if (!(v > 0)) throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected > 0");
  };
  auto at_least = [](const char* flag, int64_t v, int64_t lo) {
    if (v < lo) {
      throw InvalidArgument(std::string(flag) + ": got " + std::to_string(v) + ", expected >= " + std::to_string(lo));
    }
  };
  at_least("--iterations", c.iterations, 0);
  at_least("--batch-size", c.batch_size, 2);  // BatchNorm needs 2 samples
  at_least("--g-steps", c.g_steps, 1);
  at_least("--f-steps", c.f_steps, 1);
  at_least("--hidden-layers", c.potential.hidden_layers, 1);
  at_least("--width", c.potential.width, 0);
  at_least("--generator-layers", c.generator.hidden_layers, 0);
  at_least("--generator-width", c.generator.width, 0);
  at_least("--latent-dim", c.latent_dim, 0);
  at_least("--lr-decay-every", c.lr_decay_every, 1);
  at_least("--log-every", c.log_every, 1);
  positive("--lr-f", c.lr_f);
  positive("--lr-g", c.lr_g);
  positive("--lr-h", c.lr_h);
  positive("--lr-decay", c.lr_decay);
  if (!(c.adam_beta1 >= 0 && c.adam_beta1 < 1)) throw InvalidArgument("--adam-beta1: expected in [0, 1)");
  if (!(c.adam_beta2 >= 0 && c.adam_beta2 < 1)) throw InvalidArgument("--adam-beta2: expected in [0, 1)");
  if (!(c.convexity_penalty >= 0)) throw InvalidArgument("--convexity-penalty: expected >= 0");
  if (!(c.averaging >= 0 && c.averaging < 1)) throw InvalidArgument("--averaging: expected in [0, 1)");
  training::validate_device(c.device);
  if (c.dtype != "float32" && c.dtype != "float64") {
    throw InvalidArgument("--dtype: got '" + c.dtype + "', expected float32 or float64");
  }
}

nlohmann::json to_json(const NeuralBarycenterConfig& c) {
  return {
      {"hidden_layers", c.potential.hidden_layers},
      {"width", c.potential.width},
      {"activation", nn::to_string(c.potential.activation)},
      {"square_first_layer", c.potential.square_first_layer},
      {"quadratic_skip", c.potential.quadratic_skip},
      {"generator_layers", c.generator.hidden_layers},
      {"generator_width", c.generator.width},
      {"generator_batch_norm", c.generator.batch_norm},
      {"generator_final_activation", c.generator.final_activation},
      {"latent_dim", c.latent_dim},
      {"iterations", c.iterations},
      {"batch_size", c.batch_size},
      {"g_steps", c.g_steps},
      {"f_steps", c.f_steps},
      {"lr_f", c.lr_f},
      {"lr_g", c.lr_g},
      {"lr_h", c.lr_h},
      {"adam_beta1", c.adam_beta1},
      {"adam_beta2", c.adam_beta2},
      {"lr_decay_every", c.lr_decay_every},
      {"lr_decay", c.lr_decay},
      {"f_convexity", to_string(c.f_convexity)},
      {"g_convexity", to_string(c.g_convexity)},
      {"convexity_penalty", c.convexity_penalty},
      {"engine", to_string(c.engine)},
      {"seed", c.seed},
      {"dtype", c.dtype},
      {"device", c.device},
      {"log_every", c.log_every},
      {"averaging", c.averaging},
  };
}

void update_from_json(NeuralBarycenterConfig& c, const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidArgument("config: expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    try {
      if (k == "hidden_layers") c.potential.hidden_layers = v.get<int64_t>();
      else if (k == "width") c.potential.width = v.get<int64_t>();
      else if (k == "activation") c.potential.activation = nn::parse_icnn_activation(v.get<std::string>());
      else if (k == "square_first_layer") c.potential.square_first_layer = v.get<bool>();
      else if (k == "quadratic_skip") c.potential.quadratic_skip = v.get<bool>();
      else if (k == "generator_layers") c.generator.hidden_layers = v.get<int64_t>();
      else if (k == "generator_width") c.generator.width = v.get<int64_t>();
      else if (k == "generator_batch_norm") c.generator.batch_norm = v.get<bool>();
      else if (k == "generator_final_activation") c.generator.final_activation = v.get<bool>();
      else if (k == "latent_dim") c.latent_dim = v.get<int64_t>();
      else if (k == "iterations") c.iterations = v.get<int64_t>();
      else if (k == "batch_size") c.batch_size = v.get<int64_t>();
      else if (k == "g_steps") c.g_steps = v.get<int64_t>();
      else if (k == "f_steps") c.f_steps = v.get<int64_t>();
      else if (k == "lr_f") c.lr_f = v.get<double>();
      else if (k == "lr_g") c.lr_g = v.get<double>();
      else if (k == "lr_h") c.lr_h = v.get<double>();
      else if (k == "adam_beta1") c.adam_beta1 = v.get<double>();
      else if (k == "adam_beta2") c.adam_beta2 = v.get<double>();
      else if (k == "lr_decay_every") c.lr_decay_every = v.get<int64_t>();
      else if (k == "lr_decay") c.lr_decay = v.get<double>();
      else if (k == "f_convexity") c.f_convexity = parse_convexity(v.get<std::string>());
      else if (k == "g_convexity") c.g_convexity = parse_convexity(v.get<std::string>());
      else if (k == "convexity_penalty") c.convexity_penalty = v.get<double>();
      else if (k == "engine") c.engine = parse_engine(v.get<std::string>());
      else if (k == "seed") c.seed = v.get<uint64_t>();
      else if (k == "dtype") c.dtype = v.get<std::string>();
      else if (k == "device") c.device = v.get<std::string>();
      else if (k == "log_every") c.log_every = v.get<int64_t>();
      else if (k == "averaging") c.averaging = v.get<double>();
      else throw InvalidArgument("config: unknown field '" + k + "'");
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument("config field '" + k + "': wrong type (" + v.dump() + "): " + e.what());
    }
  }
}

}  // namespace wbary::barycenter
