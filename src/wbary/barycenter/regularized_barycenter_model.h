// File: wbary/barycenter/regularized_barycenter_model.h
//
// What CRWB (Li, Genevay, Yurochkin, Solomon, NeurIPS 2020) produces: dual
// potentials f_i (marginal side) and g_i (barycenter side) of the
// regularised problem against a reference box measure xi, and the maps
//   T_i(x) = x - grad f_i(x) / 2          (un-halved cost, crwb.md §1.3)
// applied to the centred marginal and re-centred so that every push has the
// weighted mean of the marginals' means (the authors' construction). CRWB
// has no generator and no inverse map: sample() pushes fresh samples of the
// stored marginals (a weighted mixture of the N pushes), pull() refuses.
//
// Example:
//   auto model = barycenter::RegularizedBarycenterModel::load("out/");
//   at::Tensor y = model.push(0, x);
#pragma once

#include <string>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/regularized_barycenter_config.h"
#include "wbary/nn/stacked_mlp.h"

namespace wbary::barycenter {

/// The reference measure xi: uniform on {axes u : lo <= u <= hi} (axes are
/// the columns of `axes`, the principal axes of the pooled centred data).
struct ReferenceBox {
  at::Tensor axes;  ///< [d, d] float64
  at::Tensor lo;    ///< [d]
  at::Tensor hi;    ///< [d]
  /// n uniform samples, [n, d] float64.
  at::Tensor sample(int64_t n, at::Generator& gen) const;
  /// |hi - lo|^2, the squared diagonal.
  double squared_diameter() const;
};

/// A trained CRWB / CDWB model: pushes by the regularized plans' barycentric projection.
class RegularizedBarycenterModel : public BarycenterModel {
 public:
  static constexpr int kFormatVersion = 1;  ///< Version of the model.json / model.pt layout this class writes and reads.

  /// A model with fresh potentials, as the solver creates it (load() reads a trained one).
  RegularizedBarycenterModel(int64_t dim, int64_t count, std::vector<double> weights,
                             std::vector<std::string> marginal_specs, RegularizedBarycenterConfig config);

  std::string method() const override { return "crwb"; }
  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const override { return dim_; }
  /// Number N of marginals.
  int64_t count() const override { return count_; }
  /// The barycentric weights a_i (non-negative, summing to 1).
  const std::vector<double>& weights() const override { return weights_; }
  const std::vector<std::string>& marginal_specs() const override { return specs_; }
  uint64_t seed() const override { return config_.seed; }
  /// The configuration it was trained with.
  const RegularizedBarycenterConfig& config() const { return config_; }

  bool has_generator() const override { return false; }
  at::Tensor sample(int64_t n, uint64_t seed) const override { return sample_by_pushing(*this, n, seed); }
  at::Tensor push(int64_t i, const at::Tensor& x) const override;
  bool has_pull() const override { return false; }
  at::Tensor pull(int64_t i, const at::Tensor& y) const override;
  /// x - grad f_i(x) / 2 on centred x, before re-centring ([n, d] float64).
  at::Tensor raw_map(int64_t i, const at::Tensor& centred_x) const;

  void save(const std::string& dir) const override;
  /// Reads what save() wrote; IoError naming the file when it is missing or malformed.
  static RegularizedBarycenterModel load(const std::string& dir, const std::string& device = "");
  nlohmann::json metadata() const override;
  nlohmann::json& history() override { return history_; }
  /// Training and evaluation records (JSON objects with a "step" field).
  const nlohmann::json& history() const override { return history_; }

  nn::StackedMlp f{nullptr};  ///< N source-side potentials
  nn::StackedMlp g{nullptr};  ///< N barycenter-side potentials
  /// Fixed from the data before training (float64, CPU):
  ReferenceBox box;
  at::Tensor means;    ///< [N, d]: each marginal is centred by its mean
  at::Tensor offsets;  ///< [N, d]: mean of raw_map(i, .) over centred samples of marginal i
  double epsilon = 0;  ///< the effective eps (scaled by the box when config.scale_epsilon)
  double outside_share = 0;  ///< share of the pooled samples outside the trimmed box

 private:
  int64_t dim_;
  int64_t count_;
  std::vector<double> weights_;
  std::vector<std::string> specs_;
  RegularizedBarycenterConfig config_;
  nlohmann::json history_ = nlohmann::json::array();
};

}  // namespace wbary::barycenter
