#include "wbary/maps/w2_map_config.h"

#include <nlohmann/json.hpp>

#include <set>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::maps {
namespace {

nlohmann::json solver_json(const ConjugateSolverConfig& c) {
  return {{"kind", to_string(c.kind)},          {"max_iterations", c.max_iterations},
          {"gradient_tolerance", c.gradient_tolerance}, {"history", c.history},
          {"line_search_steps", c.line_search_steps},   {"armijo", c.armijo},
          {"adam_lr", c.adam_lr}};
}

void update_solver(ConjugateSolverConfig& c, const nlohmann::json& j, const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (key == "kind") c.kind = parse_conjugate_solver(value.get<std::string>());
    else if (key == "max_iterations") c.max_iterations = value.get<int64_t>();
    else if (key == "gradient_tolerance") c.gradient_tolerance = value.get<double>();
    else if (key == "history") c.history = value.get<int64_t>();
    else if (key == "line_search_steps") c.line_search_steps = value.get<int64_t>();
    else if (key == "armijo") c.armijo = value.get<double>();
    else if (key == "adam_lr") c.adam_lr = value.get<double>();
    else throw InvalidArgument("config: unknown key '" + where + "." + key + "'");
  }
}

}  // namespace

AmortizationLoss parse_amortization_loss(const std::string& name) {
  if (name == "objective") return AmortizationLoss::kObjective;
  if (name == "regression") return AmortizationLoss::kRegression;
  if (name == "cycle") return AmortizationLoss::kCycle;
  throw InvalidArgument("amortization: expected objective, regression or cycle, got '" + name + "'");
}

std::string to_string(AmortizationLoss loss) {
  switch (loss) {
    case AmortizationLoss::kObjective: return "objective";
    case AmortizationLoss::kRegression: return "regression";
    case AmortizationLoss::kCycle: return "cycle";
  }
  return "?";
}

void W2MapConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InvalidArgument("map config: " + what);
  };
  need(iterations >= 0, "iterations must be >= 0");
  need(batch_size >= 1, "batch_size must be >= 1");
  need(learning_rate > 0, "learning_rate must be > 0");
  need(final_lr_fraction > 0 && final_lr_fraction <= 1, "final_lr_fraction must be in (0, 1]");
  need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "beta1 and beta2 must be in [0, 1)");
  need(weight_decay >= 0, "weight_decay must be >= 0");
  need(cycle_weight >= 0, "cycle_weight must be >= 0");
  need(dtype == "float32" || dtype == "float64", "dtype must be float32 or float64, got '" + dtype + "'");
  need(log_every >= 1, "log_every must be >= 1");
  training::validate_device(device);
  for (int64_t h : hidden) need(h > 0, "hidden widths must be positive");
  need(!(amortization == AmortizationLoss::kRegression && conjugate.kind == ConjugateSolverKind::kNone),
       "regression amortization regresses onto the fine-tuned conjugate: it needs --conjugate lbfgs or adam");
}

nlohmann::json to_json(const W2MapConfig& c) {
  return {{"potential", to_string(c.potential)},
          {"hidden", c.hidden},
          {"amortization", to_string(c.amortization)},
          {"conjugate", solver_json(c.conjugate)},
          {"inverse_conjugate", solver_json(c.inverse_conjugate)},
          {"iterations", c.iterations},
          {"batch_size", c.batch_size},
          {"learning_rate", c.learning_rate},
          {"final_lr_fraction", c.final_lr_fraction},
          {"beta1", c.beta1},
          {"beta2", c.beta2},
          {"weight_decay", c.weight_decay},
          {"cycle_weight", c.cycle_weight},
          {"seed", c.seed},
          {"dtype", c.dtype},
          {"device", c.device},
          {"log_every", c.log_every}};
}

void update_from_json(W2MapConfig& c, const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidArgument("config: expected a JSON object");
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "potential") c.potential = parse_potential_kind(value.get<std::string>());
      else if (key == "hidden") c.hidden = value.get<std::vector<int64_t>>();
      else if (key == "amortization") c.amortization = parse_amortization_loss(value.get<std::string>());
      else if (key == "conjugate") update_solver(c.conjugate, value, key);
      else if (key == "inverse_conjugate") update_solver(c.inverse_conjugate, value, key);
      else if (key == "iterations") c.iterations = value.get<int64_t>();
      else if (key == "batch_size") c.batch_size = value.get<int64_t>();
      else if (key == "learning_rate") c.learning_rate = value.get<double>();
      else if (key == "final_lr_fraction") c.final_lr_fraction = value.get<double>();
      else if (key == "beta1") c.beta1 = value.get<double>();
      else if (key == "beta2") c.beta2 = value.get<double>();
      else if (key == "weight_decay") c.weight_decay = value.get<double>();
      else if (key == "cycle_weight") c.cycle_weight = value.get<double>();
      else if (key == "seed") c.seed = value.get<uint64_t>();
      else if (key == "dtype") c.dtype = value.get<std::string>();
      else if (key == "device") c.device = value.get<std::string>();
      else if (key == "log_every") c.log_every = value.get<int64_t>();
      else throw InvalidArgument("config: unknown key '" + key + "'");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("config: wrong value type (") + e.what() + ")");
  }
}

}  // namespace wbary::maps
