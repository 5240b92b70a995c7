// File: wbary/barycenter/continuous_barycenter_model.h
//
// What CWB (Korotin et al. ICLR 2021) produces: for each marginal i a convex
// potential psi_i whose gradient maps mu_i onto the barycenter (nu =
// grad psi_i # mu_i for every i) and its learned conjugate psibar_i, whose
// gradient maps the barycenter back (the cycle term trains grad psibar_i o
// grad psi_i = id). CWB has no generator: sample() pushes fresh samples of
// the stored marginals (barycenter_model.h, sample_by_pushing).
//
// Example:
//   auto model = barycenter::ContinuousBarycenterModel::load("out/");
//   at::Tensor y = model.push(0, x);     // onto the barycenter
//   at::Tensor x_back = model.pull(0, y);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/continuous_barycenter_config.h"
#include "wbary/nn/icnn.h"

namespace wbary::barycenter {

/// A trained CWB model: push through grad psi_i, pull through grad psibar_i.
class ContinuousBarycenterModel : public BarycenterModel {
 public:
  static constexpr int kFormatVersion = 1;  ///< Version of the model.json / model.pt layout this class writes and reads.

  /// Fresh networks for `count` marginals in R^dim, initialised from config.seed.
  ContinuousBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                            std::vector<std::string> marginal_specs, ContinuousBarycenterConfig config);

  std::string method() const override { return "cwb"; }
  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const override { return dim_; }
  /// Number N of marginals.
  int64_t count() const override { return count_; }
  /// The barycentric weights a_i (non-negative, summing to 1).
  const std::vector<double>& weights() const override { return weights_; }
  const std::vector<std::string>& marginal_specs() const override { return specs_; }
  uint64_t seed() const override { return config_.seed; }
  /// The configuration it was trained with.
  const ContinuousBarycenterConfig& config() const { return config_; }

  bool has_generator() const override { return false; }
  at::Tensor sample(int64_t n, uint64_t seed) const override { return sample_by_pushing(*this, n, seed); }
  /// grad psi_i(x).
  at::Tensor push(int64_t i, const at::Tensor& x) const override;
  bool has_pull() const override { return true; }
  /// grad psibar_i(y).
  at::Tensor pull(int64_t i, const at::Tensor& y) const override;

  void save(const std::string& dir) const override;
  /// Reads what save() wrote; IoError naming the file when it is missing or malformed.
  static ContinuousBarycenterModel load(const std::string& dir, const std::string& device = "");
  nlohmann::json metadata() const override;
  nlohmann::json& history() override { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const override { return history_; }

  std::shared_ptr<nn::IcnnPotential> psi;        ///< N stacked: marginal -> barycenter
  std::shared_ptr<nn::IcnnPotential> conjugate;  ///< N stacked: barycenter -> marginal

 private:
  int64_t dim_;
  int64_t count_;
  std::vector<double> weights_;
  std::vector<std::string> specs_;
  ContinuousBarycenterConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

}  // namespace wbary::barycenter
