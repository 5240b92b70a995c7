#include "wbary/barycenter/robust_barycenter_config.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "wbary/error.h"
#include "wbary/training/device.h"

namespace wbary::barycenter {

Divergence parse_divergence(const std::string& name) {
  if (name == "identity") return Divergence::kIdentity;
  if (name == "kl") return Divergence::kKl;
  if (name == "softplus") return Divergence::kSoftplus;
  throw InvalidArgument("divergence: expected kl, softplus or identity, got '" + name + "'");
}

std::string to_string(Divergence d) {
  switch (d) {
    case Divergence::kIdentity: return "identity";
    case Divergence::kKl: return "kl";
    case Divergence::kSoftplus: return "softplus";
  }
  return "?";
}

at::Tensor divergence_conjugate(Divergence d, double tau, const at::Tensor& t) {
  switch (d) {
    case Divergence::kIdentity: return t;
    case Divergence::kKl: return tau * at::expm1(t / tau);
    case Divergence::kSoftplus: return tau * (2 * at::softplus(t / tau) - 2 * std::log(2.0));
  }
  return t;
}

at::Tensor divergence_conjugate_derivative(Divergence d, double tau, const at::Tensor& t) {
  switch (d) {
    case Divergence::kIdentity: return at::ones_like(t);
    case Divergence::kKl: return at::exp(t / tau);
    case Divergence::kSoftplus: return 2 * at::sigmoid(t / tau);
  }
  return t;
}

double one_cycle_factor(double p) {
  constexpr double kPeak = 0.3, kStart = 1.0 / 25, kEnd = kStart / 1e4;
  p = std::min(std::max(p, 0.0), 1.0);
  if (p < kPeak) return kStart + (1 - kStart) * 0.5 * (1 - std::cos(M_PI * p / kPeak));
  return kEnd + (1 - kEnd) * 0.5 * (1 + std::cos(M_PI * (p - kPeak) / (1 - kPeak)));
}

void RobustBarycenterConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InvalidArgument("robust config: " + what);
  };
  need(tau > 0, "tau must be > 0");
  need(iterations >= 0, "iterations must be >= 0");
  need(schedule_seconds >= 0, "schedule_seconds must be >= 0");
  training::validate_device(device);
  need(inner_iterations >= 1, "inner_iterations must be >= 1");
  need(batch_size >= 1, "batch_size must be >= 1");
  need(noise_dim >= 0, "noise_dim must be >= 0");
  need(lr_potential > 0 && lr_map > 0 && lr_m > 0, "learning rates must be > 0");
  need(dtype == "float32" || dtype == "float64", "dtype must be float32 or float64, got '" + dtype + "'");
  need(log_every >= 1, "log_every must be >= 1");
  need(!potential_hidden.empty() && !map_hidden.empty(), "hidden widths must not be empty");
  for (int64_t h : potential_hidden) need(h > 0, "hidden widths must be positive");
  for (int64_t h : map_hidden) need(h > 0, "hidden widths must be positive");
}

config::FieldList fields(RobustBarycenterConfig& c) {
  config::FieldList f;
  f.group("Training (defaults: Gazdieva et al. 2025 code)")
      .choice("divergence", c.divergence,
              {{"kl", Divergence::kKl}, {"softplus", Divergence::kSoftplus}, {"identity", Divergence::kIdentity}},
              "kl | softplus | identity (classical OT)")
      .add("tau", c.tau, "unbalancedness: small drops outliers, large approaches the classical barycenter")
      .add("potential_hidden", c.potential_hidden, "hidden widths of the g_k, e.g. --potential-hidden 128 128")
      .add("map_hidden", c.map_hidden, "hidden widths of the maps T_k")
      .add("noise_dim", c.noise_dim, "auxiliary noise dimension of stochastic maps T_k(x, s); 0 = deterministic")
      .add("iterations", c.iterations, "outer (potential) steps")
      .add("inner_iterations", c.inner_iterations, "map steps per potential step")
      .add("batch_size", c.batch_size, "samples per marginal and step")
      .add("lr_potential", c.lr_potential, "Adam learning rate of the potentials g_k")
      .add("lr_map", c.lr_map, "Adam learning rate of the maps T_k")
      .add("lr_m", c.lr_m, "Adam learning rate of m")
      .add("one_cycle", c.one_cycle, "one-cycle learning-rate schedule")
      .add("schedule_seconds", c.schedule_seconds,
           "run the one-cycle over this many seconds of training instead of --iterations (0 = off; --time-limit sets it)")
      .add("seed", c.seed, "seeds networks and batches")
      .add("dtype", c.dtype, "float32 | float64")
      .add("device", c.device, "cpu | cuda | cuda:N")
      .add("log_every", c.log_every, "history record every k steps");
  return f;
}

nlohmann::json to_json(const RobustBarycenterConfig& c) {
  RobustBarycenterConfig copy = c;
  return fields(copy).to_json();
}

void update_from_json(RobustBarycenterConfig& c, const nlohmann::json& j) { fields(c).update(j); }

}  // namespace wbary::barycenter
