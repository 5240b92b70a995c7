// File: wbary/maps/w2_map_model.h
//
// What a W2 map fit produces: the potential f and the amortisation model H,
// giving
//   - forward(x) = grad f(x):       source -> target (the Brenier map);
//   - inverse(y) = x_hat(y):        target -> source, the conjugate's argmin,
//                                    warm-started at H(y) and fine-tuned;
//   - conjugate(y) = f*(y) and the dual objective E f(X) + E f*(Y);
// and save / load to a directory (model.pt + model.json). The model
// remembers where its source and target came from (specs), so that
// `wbary map sample` can draw source points and push them.
//
// Example:
//   auto model = maps::W2MapModel::load("out/");
//   at::Tensor y = model.forward(x);     // [n, d] float64
//   at::Tensor x_back = model.inverse(y);
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "wbary/maps/potential.h"
#include "wbary/maps/w2_map_config.h"

namespace wbary::maps {

inline constexpr int kMapFormatVersion = 1;

/// A trained W2 map: forward through grad f, inverse through the conjugate's argmax.
class W2MapModel {
 public:
  /// Fresh networks for maps on R^dim, initialised from config.seed.
  W2MapModel(int64_t dim, std::string source_spec, std::string target_spec, W2MapConfig config);

  /// Dimension d of the source and target.
  int64_t dim() const { return dim_; }
  /// Where the source came from (may be empty).
  const std::string& source_spec() const { return source_spec_; }
  /// Where the target came from (may be empty).
  const std::string& target_spec() const { return target_spec_; }
  /// The configuration it was trained with.
  const W2MapConfig& config() const { return config_; }
  /// Where the computation runs: "cpu" or "cuda" (a LibTorch device string).
  at::Device device() const { return at::Device(config_.device); }
  /// Floating-point type of the networks and the arithmetic (float32 or float64).
  at::ScalarType dtype() const;

  /// grad f(x) for x [n, d]; float64 on the CPU. Works in chunks of 4096 rows.
  at::Tensor forward(const at::Tensor& x) const;
  /// The conjugate's argmin for y [n, d] by config().inverse_conjugate,
  /// warm-started at H(y); float64 on the CPU.
  at::Tensor inverse(const at::Tensor& y) const;
  /// The amortised prediction H(y) alone (no fine-tuning).
  at::Tensor amortized_inverse(const at::Tensor& y) const;
  /// f*(y) = <x_hat, y> - f(x_hat) with the fine-tuned x_hat, [n].
  at::Tensor conjugate(const at::Tensor& y) const;
  /// f(x), [n].
  at::Tensor potential_value(const at::Tensor& x) const;
  /// The Kantorovich dual E f(X) + E f*(Y) on samples x of the source and y
  /// of the target; W2^2(P, Q) ~ E|X|^2 + E|Y|^2 - 2 dual at the optimum.
  double dual_objective(const at::Tensor& x, const at::Tensor& y) const;

  /// Training and evaluation records (JSON objects with a "step" field).
  nlohmann::json& history() { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const { return history_; }
  /// model.json's content: format, method, dimension, weights, marginals, config.
  nlohmann::json metadata() const;

  /// Writes the model to the directory DIR atomically (what load() reads).
  void save(const std::string& dir) const;
  /// Throws IoError naming the file on a missing / corrupt / other-version model.
  static W2MapModel load(const std::string& dir, const std::string& device = "");

  std::shared_ptr<MapPotential> f;  ///< the potential: grad f is the map
  std::shared_ptr<ResidualMlp> amortizer;  ///< predicts the conjugate's argmax

 private:
  at::Tensor prepare(const at::Tensor& x, const char* what) const;

  int64_t dim_;
  std::string source_spec_, target_spec_;
  W2MapConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

}  // namespace wbary::maps
