// File: wbary/barycenter/evaluation.h
//
// Accuracy of a learned barycenter against the exact one, where it is
// known: when every marginal is Gaussian, the barycenter is the Gaussian
// given by GaussianBarycenter, and the NWB paper (§4, eq. 11) reports
//   - BW2-UVP of h#eta (the generative representation, where the method has one), and
//   - sum_i a_i BW2-UVP(push_i # mu_i) (the map representation; every method).
//
// For other marginals in low dimension (2-D/3-D shapes, §4.1) the reference
// is the exact barycenter of n-point samples of the inputs: for two inputs
// the displacement interpolation a_1 x + a_2 T(x) of their optimal
// assignment (McCann 1997; exact), for more the free-support barycenter
// (Cuturi & Doucet 2014, Alg. 2; exact transport in every step, a local
// optimum). The score is UVP = 100 W2^2(estimate, exact) / Var(exact) with
// exact W2 between the n-point clouds. Even a perfect model scores above 0
// at finite n: the sampling floor is the UVP between the exact barycenters of
// two independent n-point samples, the best any estimate can show.
//
// Example:
//   auto e = barycenter::evaluate_gaussian(model, problem, 10000, /*seed=*/7);
//   if (e) std::cout << e->uvp_generator << "%\n";
//   auto d = barycenter::evaluate_discrete(model, problem, 2000, /*seed=*/7);
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/data/gaussian.h"
#include "wbary/barycenter/problem.h"

namespace wbary::barycenter {

/// BW2-UVP of a model's samples against the exact Gaussian barycenter.
struct GaussianEvaluation {
  std::optional<double> uvp_generator;  ///< BW2-UVP(h#eta, exact), percent; models with a generator
  double uvp_push = 0;                ///< sum_i a_i BW2-UVP(grad g_i # mu_i, exact), percent
  std::vector<double> uvp_push_each;  ///< per marginal
  data::GaussianMoments exact;        ///< the exact barycenter
};

/// nullopt unless every marginal of `problem` is Gaussian. Uses n samples
/// of h#eta and n samples of each marginal.
std::optional<GaussianEvaluation> evaluate_gaussian(const BarycenterModel& model,
                                                    const BarycenterProblem& problem, int64_t n, uint64_t seed);

/// UVP of a model's samples against the exact discrete barycenter of its
/// input clouds: means over `repeats` independent draws, and their sample
/// standard deviations (0 for one draw). At n = 2 000 in 2-D one draw's
/// UVP moves by ~15 % of itself between draws, as much as the differences
/// between settings worth measuring; five draws make it ~7 %.
struct DiscreteEvaluation {
  int64_t samples = 0;                ///< n, points of every cloud
  int64_t repeats = 1;                ///< independent draws averaged
  std::string reference;              ///< how the exact barycenter was computed
  std::optional<double> uvp_generator;  ///< UVP(h#eta, exact), percent; models with a generator
  double uvp_push = 0;                ///< sum_i a_i UVP(grad g_i # mu_i, exact), percent
  std::vector<double> uvp_push_each;  ///< per marginal
  double sampling_floor = 0;          ///< UVP(exact of one sample, exact of another), percent
  std::optional<double> uvp_generator_sd;  ///< standard deviation over the draws
  std::vector<double> uvp_push_each_sd;    ///< standard deviation over the draws, per marginal
  double sampling_floor_sd = 0;            ///< standard deviation over the draws
};

/// The exact barycenter of clouds [n_i, d] with weights (see above): points
/// [k, d] and their masses [k] (uniform for free support; the plan's masses
/// for two inputs). `method` receives its description.
std::pair<at::Tensor, at::Tensor> discrete_barycenter(const std::vector<at::Tensor>& clouds,
                                                      const std::vector<double>& weights, std::string* method = nullptr);

/// UVP = 100 W2^2(x, y) / Var(y) between the cloud x (masses x_mass, or
/// uniform when undefined) and the weighted cloud (y, y_mass), by exact
/// transport. Throws InvalidArgument if the solve is not certified.
double w2_uvp(const at::Tensor& x, const at::Tensor& y, const at::Tensor& y_mass, const at::Tensor& x_mass = {});

/// nullopt when the problem's dimension exceeds `max_dim` (the exact LP on
/// n points is for shapes, not 784-d images). Per draw: n samples of every
/// marginal, of h#eta and of each grad g_i # mu_i; two exact barycenters for
/// the floor. The first draw uses `seed` (as a single draw always has).
std::optional<DiscreteEvaluation> evaluate_discrete(const BarycenterModel& model, const BarycenterProblem& problem,
                                                    int64_t n, uint64_t seed, int64_t max_dim = 3,
                                                    int64_t repeats = 1);

/// The exact barycenter of the problem's marginals when all are Gaussian.
std::optional<data::GaussianMoments> exact_gaussian_barycenter(const BarycenterProblem& problem);

}  // namespace wbary::barycenter
