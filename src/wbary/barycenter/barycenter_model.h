// File: wbary/barycenter/barycenter_model.h
//
// What every continuous barycenter solver produces (NWB, CWB, CRWB), seen
// the same way by `wbary sample / push / pull / eval`, the evaluation and
// Python: a model of the barycenter nu of N marginals that can
//   - push(i, x):  map samples of marginal i onto nu (nu = push_i # mu_i);
//   - pull(i, y):  map points of nu back onto marginal i, where the method
//                  learns that map (NWB's grad f_i, CWB's grad psibar_i);
//   - sample(n):   draw from nu, from the model alone where the method has
//                  a generator (NWB's h), otherwise by pushing fresh samples
//                  of the stored marginals (sample_by_pushing);
// and be saved to / loaded from a directory (methods.h: load_model).
//
// Example:
//   std::unique_ptr<barycenter::BarycenterModel> m = barycenter::load_model("out/");
//   at::Tensor y = m->push(0, x);                 // [n, d] float64
//   if (m->has_generator()) y = m->sample(1000, /*seed=*/1);
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace wbary::barycenter {

/// A trained continuous barycenter: sample it, push marginals onto it, pull it back, save it.
class BarycenterModel {
 public:
  virtual ~BarycenterModel() = default;

  /// The method that trained it: "nwb", "cwb" or "crwb" (methods.h).
  virtual std::string method() const = 0;
  /// Dimension d of the barycenter and of every marginal.
  virtual int64_t dim() const = 0;
  /// Number N of marginals.
  virtual int64_t count() const = 0;
  /// The barycentric weights a_i (non-negative, summing to 1).
  virtual const std::vector<double>& weights() const = 0;
  /// Where each marginal came from (specs or absolute paths), for evaluation
  /// and for sample_by_pushing.
  virtual const std::vector<std::string>& marginal_specs() const = 0;
  /// The seed of the run (for reproducible pictures and evaluations).
  virtual uint64_t seed() const = 0;

  /// Whether sample() draws from the model alone (a generator) rather than
  /// from pushed samples of the stored marginals.
  virtual bool has_generator() const = 0;
  /// n samples of the barycenter, [n, d] float64.
  virtual at::Tensor sample(int64_t n, uint64_t seed) const = 0;
  /// Marginal i (0-based) -> barycenter; x [n, d] -> [n, d] float64.
  virtual at::Tensor push(int64_t i, const at::Tensor& x) const = 0;
  /// Whether pull() exists for this method.
  virtual bool has_pull() const = 0;
  /// Barycenter -> marginal i; InvalidArgument when !has_pull().
  virtual at::Tensor pull(int64_t i, const at::Tensor& y) const = 0;

  /// Writes DIR/model.pt and DIR/model.json atomically.
  virtual void save(const std::string& dir) const = 0;
  /// model.json's content: format, method, dimension, weights, marginals, config.
  virtual nlohmann::json metadata() const = 0;
  /// Training and evaluation records (JSON objects with a "step" field).
  virtual nlohmann::json& history() = 0;
  /// Training and evaluation records (JSON objects with a "step" field).
  virtual const nlohmann::json& history() const = 0;

 protected:
  /// InvalidArgument unless 0 <= i < count() and x is [n, dim()]; `what` names the call.
  void check_input(int64_t i, const at::Tensor& x, const char* what) const;
};

/// n barycenter samples made by pushing fresh samples of the marginals
/// (re-created from marginal_specs()): round(n a_i) from marginal i through
/// push(i, .), shuffled. Each push_i # mu_i estimates nu, so their a-mixture
/// does too. IoError naming the file if a marginal's file is gone.
at::Tensor sample_by_pushing(const BarycenterModel& model, int64_t n, uint64_t seed);

}  // namespace wbary::barycenter
