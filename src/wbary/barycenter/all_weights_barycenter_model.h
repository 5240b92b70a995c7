// File: wbary/barycenter/all_weights_barycenter_model.h
//
// What NWB-II produces: the barycenters nu_w of N marginals for every
// weight vector w on the simplex, from one training (Fan et al. 2021 §B):
//   sample(n, w):    h(Z, w), Z ~ N(0, I)             (draws from nu_w)
//   push(i, x, w):   grad_x g_i(x; w)                 (mu_i -> nu_w)
//   pull(i, y, w):   grad_x f_i(y; w)                 (nu_w -> mu_i)
// f_i, g_i are partially input-convex (nn/picnn.h). As a BarycenterModel
// (wbary sample / push / pull / eval without --weights) it answers for the
// weights the problem was given (uniform unless --weights).
//
// Example:
//   auto model = barycenter::AllWeightsBarycenterModel::load("out/");
//   at::Tensor y = model.sample(1000, {0.2, 0.3, 0.5}, /*seed=*/1);
//   at::Tensor t = model.push(0, x, {1, 0, 0});   // ~ x: w = e_1 is marginal 1 itself
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/all_weights_barycenter_config.h"
#include "wbary/barycenter/barycenter_model.h"
#include "wbary/nn/conditional_generator.h"
#include "wbary/nn/picnn.h"

namespace wbary::barycenter {

/// The trained NWB-II model: sample, push and pull at any weight vector on the simplex.
class AllWeightsBarycenterModel : public BarycenterModel {
 public:
  static constexpr int kFormatVersion = 1;  ///< Version of the model.json / model.pt layout this class writes and reads.
  /// Latents per sample() call at least, for BatchNorm's batch statistics.
  static constexpr int64_t kStatisticsBatch = 2048;

  /// Fresh networks for `count` marginals in R^dim, initialised from config.seed.
  AllWeightsBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                            std::vector<std::string> marginal_specs, AllWeightsBarycenterConfig config);

  std::string method() const override { return "nwb-all"; }
  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const override { return dim_; }
  /// Number N of marginals.
  int64_t count() const override { return count_; }
  /// Dimension of the generator's latent space.
  int64_t latent_dim() const { return config_.latent_dim; }
  /// The default weight vector (the problem's), used where none is given.
  const std::vector<double>& weights() const override { return weights_; }
  const std::vector<std::string>& marginal_specs() const override { return specs_; }
  uint64_t seed() const override { return config_.seed; }
  bool has_generator() const override { return true; }
  bool has_pull() const override { return true; }
  /// The configuration it was trained with.
  const AllWeightsBarycenterConfig& config() const { return config_; }

  /// n samples of nu_w, [n, d] float64. InvalidArgument unless w has
  /// count() finite entries >= 0 with a positive sum (it is normalised).
  at::Tensor sample(int64_t n, const std::vector<double>& w, uint64_t seed) const;
  /// Marginal i (0-based) -> the barycenter of weights w, through grad g_i(., w); x [n, d].
  at::Tensor push(int64_t i, const at::Tensor& x, const std::vector<double>& w) const;
  /// The barycenter of weights w -> marginal i, through grad f_i(., w); y [n, d].
  at::Tensor pull(int64_t i, const at::Tensor& y, const std::vector<double>& w) const;
  at::Tensor sample(int64_t n, uint64_t seed) const override { return sample(n, weights_, seed); }
  at::Tensor push(int64_t i, const at::Tensor& x) const override { return push(i, x, weights_); }
  at::Tensor pull(int64_t i, const at::Tensor& y) const override { return pull(i, y, weights_); }

  nlohmann::json& history() override { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const override { return history_; }
  void save(const std::string& dir) const override;
  /// Reads what save() wrote; IoError naming the file when it is missing or malformed.
  static AllWeightsBarycenterModel load(const std::string& dir, const std::string& device = "");
  nlohmann::json metadata() const override;

  /// w checked and normalised, as a [count()] tensor in the networks' dtype and device.
  at::Tensor weight_tensor(const std::vector<double>& w) const;
  /// The model of nu_w alone, as any BarycenterModel (for evaluate_gaussian).
  /// It refers to this model, which must outlive it; save() writes the
  /// whole all-weights model.
  std::unique_ptr<BarycenterModel> at_weights(const std::vector<double>& w) const;

  /// f_i(x; w), g_i(x; w) stacked over i; h(z, w).
  std::shared_ptr<nn::PicnnPotential> f;
  std::shared_ptr<nn::PicnnPotential> g;  ///< g_i(x; w): the maps marginal i -> barycenter
  nn::ConditionalGenerator h{nullptr};  ///< h(z, w): the barycenter's generator

 private:
  int64_t dim_;
  int64_t count_;
  std::vector<double> weights_;
  std::vector<std::string> specs_;
  AllWeightsBarycenterConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

/// The same, sharing ownership of `model` (for `wbary sample / push / pull
/// / eval --weights` and Python).
std::unique_ptr<BarycenterModel> at_weights(std::shared_ptr<const AllWeightsBarycenterModel> model,
                                            const std::vector<double>& w);

}  // namespace wbary::barycenter
