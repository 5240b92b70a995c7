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

nlohmann::json to_json(const RobustBarycenterConfig& c) {
  return {{"divergence", to_string(c.divergence)},
          {"tau", c.tau},
          {"potential_hidden", c.potential_hidden},
          {"map_hidden", c.map_hidden},
          {"noise_dim", c.noise_dim},
          {"iterations", c.iterations},
          {"inner_iterations", c.inner_iterations},
          {"batch_size", c.batch_size},
          {"lr_potential", c.lr_potential},
          {"lr_map", c.lr_map},
          {"lr_m", c.lr_m},
          {"one_cycle", c.one_cycle},
          {"seed", c.seed},
          {"dtype", c.dtype},
          {"device", c.device},
          {"log_every", c.log_every}};
}

void update_from_json(RobustBarycenterConfig& c, const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidArgument("config: expected a JSON object");
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "divergence") c.divergence = parse_divergence(value.get<std::string>());
      else if (key == "tau") c.tau = value.get<double>();
      else if (key == "potential_hidden") c.potential_hidden = value.get<std::vector<int64_t>>();
      else if (key == "map_hidden") c.map_hidden = value.get<std::vector<int64_t>>();
      else if (key == "noise_dim") c.noise_dim = value.get<int64_t>();
      else if (key == "iterations") c.iterations = value.get<int64_t>();
      else if (key == "inner_iterations") c.inner_iterations = value.get<int64_t>();
      else if (key == "batch_size") c.batch_size = value.get<int64_t>();
      else if (key == "lr_potential") c.lr_potential = value.get<double>();
      else if (key == "lr_map") c.lr_map = value.get<double>();
      else if (key == "lr_m") c.lr_m = value.get<double>();
      else if (key == "one_cycle") c.one_cycle = value.get<bool>();
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

}  // namespace wbary::barycenter
