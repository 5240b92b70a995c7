// File: wbary/barycenter/evaluation.h
//
// Accuracy of a learned barycenter against the exact one, where it is
// known: when every marginal is Gaussian, the barycenter is the Gaussian
// given by GaussianBarycenter, and the NWB paper (§4, eq. 11) reports
//   - BW2-UVP of h#eta (the generative representation), and
//   - sum_i a_i BW2-UVP(grad g_i # mu_i) (the map representation).
//
// Example:
//   auto e = barycenter::evaluate_gaussian(model, problem, 10000, /*seed=*/7);
//   if (e) std::cout << e->uvp_generator << "%\n";
#pragma once

#include <optional>

#include "wbary/barycenter/neural_barycenter_model.h"
#include "wbary/barycenter/problem.h"

namespace wbary::barycenter {

struct GaussianEvaluation {
  double uvp_generator = 0;           // BW2-UVP(h#eta, exact), percent
  double uvp_push = 0;                // sum_i a_i BW2-UVP(grad g_i # mu_i, exact), percent
  std::vector<double> uvp_push_each;  // per marginal
  data::GaussianMoments exact;        // the exact barycenter
};

/// nullopt unless every marginal of `problem` is Gaussian. Uses n samples
/// of h#eta and n samples of each marginal.
std::optional<GaussianEvaluation> evaluate_gaussian(const NeuralBarycenterModel& model,
                                                    const BarycenterProblem& problem, int64_t n, uint64_t seed);

/// The exact barycenter of the problem's marginals when all are Gaussian.
std::optional<data::GaussianMoments> exact_gaussian_barycenter(const BarycenterProblem& problem);

}  // namespace wbary::barycenter
