// File: wbary/barycenter/neural_barycenter_model.h
//
// What the NWB solver produces: a model of the barycenter nu of N marginals
// (Fan et al. 2021, §3.3) that can
//   - sample(n):   draw from h#eta, the generative representation;
//   - push(i, x):  map samples of marginal i onto the barycenter, grad g_i(x)
//                  (grad g_i # mu_i is the second representation of nu);
//   - pull(i, y):  map barycenter points back to marginal i, grad f_i(y)
//                  (pull(i, sample(n)) generates marginal i, Fig. 7);
// and be saved to / loaded from a directory (model.pt + model.json).
//
// Example:
//   auto model = barycenter::NeuralBarycenterModel::load("out/");
//   at::Tensor y = model.sample(1000, /*seed=*/1);   // [1000, d] float64
//   at::Tensor x1 = model.pull(0, y);                // onto marginal 1
#pragma once

#include <nlohmann/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/nn/generator.h"
#include "wbary/nn/icnn.h"

namespace wbary::barycenter {

/// Bumped whenever the on-disk layout changes; load() refuses other values.
inline constexpr int kModelFormatVersion = 1;

/// A trained NWB model: sample through h, push through grad g_i, pull through grad f_i.
class NeuralBarycenterModel : public BarycenterModel {
 public:
  /// Fresh networks for `count` marginals in R^dim, initialised from config.seed.
  NeuralBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                        std::vector<std::string> marginal_specs, NeuralBarycenterConfig config);

  std::string method() const override { return "nwb"; }
  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const override { return dim_; }
  /// Number N of marginals.
  int64_t count() const override { return count_; }
  /// Dimension of the generator's latent space.
  int64_t latent_dim() const { return h->latent_dim(); }
  /// The barycentric weights a_i (non-negative, summing to 1).
  const std::vector<double>& weights() const override { return weights_; }
  const std::vector<std::string>& marginal_specs() const override { return specs_; }
  uint64_t seed() const override { return config_.seed; }
  bool has_generator() const override { return true; }
  bool has_pull() const override { return true; }
  /// The configuration it was trained with.
  const NeuralBarycenterConfig& config() const { return config_; }

  /// n samples of h#eta (BatchNorm with its running statistics), [n, d] float64.
  at::Tensor sample(int64_t n, uint64_t seed) const override;
  /// grad g_i(x): marginal i -> barycenter. x [n, d]; i is 0-based.
  at::Tensor push(int64_t i, const at::Tensor& x) const override;
  /// grad f_i(y): barycenter -> marginal i. y [n, d]; i is 0-based.
  at::Tensor pull(int64_t i, const at::Tensor& y) const override;

  /// Training and evaluation records (JSON objects with a "step" field).
  nlohmann::json& history() override { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const override { return history_; }

  /// Writes model.pt and model.json into `dir` (created if missing), each atomically.
  void save(const std::string& dir) const override;
  /// Throws IoError naming the file on a missing/corrupt directory or a
  /// model written by another format version.
  /// `device` overrides the device the model was trained on ("" keeps it),
  /// e.g. to use a GPU-trained model on a CPU-only machine.
  static NeuralBarycenterModel load(const std::string& dir, const std::string& device = "");

  /// Where the networks live (config().device).
  at::Device device() const { return at::Device(config_.device); }

  /// Metadata written to model.json (also reused by checkpoints).
  nlohmann::json metadata() const override;

  /// The networks: f and g stack the N potentials ([N, out, in] weights).
  std::shared_ptr<nn::IcnnPotential> f;
  std::shared_ptr<nn::IcnnPotential> g;  ///< g_i: grad g_i maps marginal i onto the barycenter
  nn::Generator h{nullptr};  ///< h: latent samples -> barycenter samples

 private:
  int64_t dim_;
  int64_t count_;
  std::vector<double> weights_;
  std::vector<std::string> specs_;
  NeuralBarycenterConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

/// Resolves automatic (0) widths and latent size for dimension `dim`.
NeuralBarycenterConfig resolved(NeuralBarycenterConfig config, int64_t dim);

}  // namespace wbary::barycenter
