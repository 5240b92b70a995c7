// File: wbary/barycenter/problem.h
//
// What a barycenter problem is, independent of how it is solved: the
// marginals mu_1..mu_N (samplers), the weights a_i (>= 0, sum 1) and the
// cost (squared Euclidean; Fan et al. 2021, eq. 3). Solvers take a
// BarycenterProblem and a config.
//
// Example:
//   barycenter::BarycenterProblem p;
//   p.marginals = {data::make_sampler("ring:inner=0.6,outer=1"), data::make_sampler("square:side=2")};
//   p.specs = {"ring:inner=0.6,outer=1", "square:side=2"};
//   p.weights = {0.5, 0.5};
//   p.validate();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wbary/data/sampler.h"

namespace wbary::barycenter {

/// What is averaged: the marginals (samplers), their weights and the dimension.
struct BarycenterProblem {
  std::vector<std::shared_ptr<const data::Sampler>> marginals;  ///< mu_1..mu_N, all of dimension d
  /// Where each marginal came from (a spec or a file path), stored with the
  /// model so that it can be evaluated or re-sampled later. May be empty.
  std::vector<std::string> specs;
  /// a_i >= 0 summing to 1; empty means uniform.
  std::vector<double> weights;

  /// Dimension d of the barycenter and of every marginal.
  int64_t dim() const { return marginals.empty() ? 0 : marginals[0]->dim(); }
  /// Number of marginals.
  size_t size() const { return marginals.size(); }

  /// Fills uniform weights if empty, then checks: at least one marginal,
  /// equal dimensions (naming the first that differs), valid weights.
  void validate();
};

}  // namespace wbary::barycenter
