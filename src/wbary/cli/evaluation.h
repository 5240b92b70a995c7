// File: wbary/cli/evaluation.h
//
// Presentation of a model's accuracy for the CLI: the JSON block of the
// report and `wbary eval`, and the 2-D picture written by `wbary fit`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/problem.h"

namespace wbary::cli {

/// Gaussian marginals: {"bw2_uvp_generator" (models with a generator), "bw2_uvp_push", "bw2_uvp_push_each",
/// "samples"} against the exact Gaussian barycenter (n samples). Otherwise, in
/// 2-D/3-D: {"reference", "samples", "uvp_generator", "uvp_push",
/// "uvp_push_each", "sampling_floor"} against the exact discrete barycenter
/// of n_exact-point samples (0: skip), averaged over `repeats` draws (then
/// also "repeats" and the "*_sd" spreads). {} when neither applies.
nlohmann::json evaluate_model(const barycenter::BarycenterModel& model,
                              const barycenter::BarycenterProblem& problem, int64_t n, uint64_t seed,
                              int64_t n_exact = 0, int64_t repeats = 1);

/// The discrete block above alone (nullopt above 3-D).
nlohmann::json evaluate_against_exact(const barycenter::BarycenterModel& model,
                                      const barycenter::BarycenterProblem& problem, int64_t n_exact, uint64_t seed,
                                      int64_t repeats = 1);

/// One line for people: "h#eta 0.89 %, grad g_i#mu_i 0.34 / 0.49 % (UVP against ...)".
std::string evaluation_summary(const nlohmann::json& evaluation);

/// Three panels: the marginals, sample() (h#eta for NWB; pushed samples otherwise), and each push_i # mu_i
/// (Fan et al. Fig. 4).
void plot_2d(const barycenter::BarycenterModel& model, const barycenter::BarycenterProblem& problem,
             const std::string& path, int64_t n);

}  // namespace wbary::cli
