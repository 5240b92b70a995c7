// File: wbary/cli/evaluation.h
//
// Presentation of a model's accuracy for the CLI: the JSON block of the
// report and `wbary eval`, and the 2-D picture written by `wbary fit`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "wbary/barycenter/neural_barycenter_model.h"
#include "wbary/barycenter/problem.h"

namespace wbary::cli {

/// {"bw2_uvp_generator": .., "bw2_uvp_push": .., "bw2_uvp_push_each": [..]}
/// when the marginals are Gaussian; {} otherwise.
nlohmann::json evaluate_model(const barycenter::NeuralBarycenterModel& model,
                              const barycenter::BarycenterProblem& problem, int64_t n, uint64_t seed);

/// Three panels: the marginals, h#eta, and grad g_i # mu_i (Fan et al. Fig. 4).
void plot_2d(const barycenter::NeuralBarycenterModel& model, const barycenter::BarycenterProblem& problem,
             const std::string& path, int64_t n);

}  // namespace wbary::cli
