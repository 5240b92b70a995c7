#include "wbary/maps/w2_map_config.h"

#include <nlohmann/json.hpp>


#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::maps {
namespace {

// The conjugate solver's fields; `kind_flag` selects the solver, `prefix`
// names the others (--conjugate / --conjugate-gtol; --inverse-conjugate /
// --inverse-gtol), the flags wbary had before the field lists.
config::FieldList solver_fields(ConjugateSolverConfig& c, const std::string& kind_flag, const std::string& prefix,
                                const std::string& group) {
  config::FieldList f;
  f.group(group)
      .choice("kind", c.kind,
              {{"lbfgs", ConjugateSolverKind::kLbfgs}, {"adam", ConjugateSolverKind::kAdam},
               {"none", ConjugateSolverKind::kNone}},
              "conjugate solver: lbfgs | adam | none")
      .flag(kind_flag)
      .add("max_iterations", c.max_iterations, "conjugate solver iteration cap")
      .flag("--" + prefix + "max-iterations")
      .add("gradient_tolerance", c.gradient_tolerance, "stop a row when |grad|_inf <= this")
      .flag("--" + prefix + "gtol")
      .add("min_iterations", c.min_iterations, "iterations every row takes before the tolerance is checked")
      .flag("--" + prefix + "min-iterations")
      .add("history", c.history, "L-BFGS memory")
      .flag("--" + prefix + "history")
      .add("line_search_steps", c.line_search_steps, "trial steps 1.5^-k, k < this")
      .flag("--" + prefix + "line-search-steps")
      .add("armijo", c.armijo, "sufficient-decrease constant c1 of the line search")
      .flag("--" + prefix + "armijo")
      .add("adam_lr", c.adam_lr, "Adam solver's initial rate")
      .flag("--" + prefix + "adam-lr");
  return f;
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
  need(schedule_seconds >= 0, "schedule_seconds must be >= 0");
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

config::FieldList fields(W2MapConfig& c) {
  config::FieldList f;
  f.group("Training (defaults: Amos 2023, hd_benchmark)")
      .choice("potential", c.potential, {{"mlp", PotentialKind::kMlp}, {"icnn", PotentialKind::kIcnn}}, "icnn | mlp")
      .add("hidden", c.hidden,
           "hidden widths of f and H, e.g. --hidden 128 128 64 (default [2m, 2m, m], m = max(d, 32))")
      .choice("amortization", c.amortization,
              {{"objective", AmortizationLoss::kObjective}, {"regression", AmortizationLoss::kRegression},
               {"cycle", AmortizationLoss::kCycle}},
              "objective | regression | cycle")
      .add("iterations", c.iterations, "training steps")
      .add("batch_size", c.batch_size, "samples of each measure per step")
      .add("learning_rate", c.learning_rate, "AdamW initial learning rate (cosine-decayed)")
      .flag("--lr")
      .add("final_lr_fraction", c.final_lr_fraction, "final rate / initial rate")
      .add("schedule_seconds", c.schedule_seconds,
           "run the cosine over this many seconds of training instead of --iterations (0 = off; --time-limit sets it)")
      .add("beta1", c.beta1, "AdamW beta_1")
      .add("beta2", c.beta2, "AdamW beta_2")
      .add("weight_decay", c.weight_decay, "AdamW weight decay")
      .add("cycle_weight", c.cycle_weight, "cycle loss weight; 0 = d")
      .choice("engine", c.engine, {{"fused", nn::Engine::kFused}, {"autograd", nn::Engine::kAutograd}},
              "fused (the MLP's derivatives written out) | autograd (reference)")
      .add("seed", c.seed, "seeds networks and batches")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  f.nested("conjugate", solver_fields(c.conjugate, "--conjugate", "conjugate-", "Conjugate solver in training"));
  f.nested("inverse_conjugate", solver_fields(c.inverse_conjugate, "--inverse-conjugate", "inverse-", "Inverse map"));
  return f;
}

nlohmann::json to_json(const W2MapConfig& c) {
  W2MapConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(W2MapConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::maps
