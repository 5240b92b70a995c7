// `wbary eval`: accuracy of a trained model against the exact Gaussian
// barycenter (Gaussian marginals) or against reference samples.
#include <iostream>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/methods.h"
#include "wbary/cli/common.h"
#include "wbary/cli/evaluation.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/metrics/gaussian.h"

namespace wbary::cli {

void register_eval(CLI::App& app) {
  struct Options {
    std::string model, reference, weights;
    int64_t n = 10000;
    int64_t n_exact = 2000;
    int64_t repeats = 5;
    uint64_t seed = 1;
    int threads = 0;
    std::string device = "cpu";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Accuracy of a model: BW2-UVP (Fan et al. eq. 11) against the exact barycenter when its marginals are "
              "Gaussian specs; UVP against the exact discrete barycenter of samples in 2-D/3-D; or BW2-UVP against "
              "the Gaussian fit of --reference samples");
  cmd->add_option("--model", o->model, "model directory written by `wbary fit`")->required();
  cmd->add_option("--reference", o->reference,
                  "reference barycenter samples (.npy/.csv), or `exact`: the exact discrete barycenter of the "
                  "marginals' samples (2-D/3-D; the default there when the marginals are not Gaussian)");
  cmd->add_option("--exact-samples", o->n_exact, "points of the exact discrete barycenter")->capture_default_str();
  cmd->add_option("--repeats", o->repeats,
                  "independent draws averaged against the exact discrete barycenter (each gives its own floor); "
                  "the spreads are reported as *_sd")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--n", o->n, "samples per estimate (the paper: 10000)")->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "comma-separated weights, one per input: score the barycenter of those weights (models trained "
                  "with --all-weights)");
  cmd->add_option("--seed", o->seed)->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->callback([o] {
    set_threads(o->threads);
    const auto model_ptr = barycenter::load_model(o->model, o->device, o->weights, "--weights");
    const barycenter::BarycenterModel& model = *model_ptr;
    nlohmann::json out = nlohmann::json::object();
    // The model's own marginals, read again only where a reference is made
    // from them (a --reference file needs none of them to exist any more).
    const auto model_problem = [&model] {
      barycenter::BarycenterProblem problem;
      for (const auto& s : model.marginal_specs()) {
        problem.specs.push_back(s);
        problem.marginals.push_back(data::make_sampler(s));
      }
      problem.weights = model.weights();
      problem.validate();
      return problem;
    };
    if (o->reference == "exact") {
      out = evaluate_against_exact(model, model_problem(), o->n_exact, o->seed, o->repeats);
      if (out.empty()) {
        throw InvalidArgument("eval --reference exact: the model is " + std::to_string(model.dim()) +
                              "-dimensional; the exact discrete barycenter is computed up to 3-D");
      }
    } else if (!o->reference.empty()) {
      const at::Tensor ref = data::read_points(o->reference);
      if (ref.size(1) != model.dim()) {
        throw InvalidArgument(o->reference + ": dimension " + std::to_string(ref.size(1)) + ", expected " +
                              std::to_string(model.dim()));
      }
      const auto moments = metrics::empirical_moments(ref);
      out["reference"] = o->reference;
      if (model.has_generator()) {
        out["bw2_uvp_generator"] = metrics::bw2_uvp(model.sample(o->n, o->seed), moments);
        std::cout << out.dump(2) << "\n";
        return;
      }
      // No generator: the pushes of fresh samples of the model's marginals.
      double total = 0;
      for (int64_t i = 0; i < model.count(); ++i) {
        const auto sampler = data::make_sampler(model.marginal_specs().at(i));
        at::Generator gen = data::make_generator(data::derive_seed(o->seed, 0xe7a1, i));
        const double uvp = metrics::bw2_uvp(model.push(i, sampler->sample(o->n, gen)), moments);
        out["bw2_uvp_push_each"].push_back(uvp);
        total += model.weights()[i] * uvp;
      }
      out["bw2_uvp_push"] = total;
    } else {
      out = evaluate_model(model, model_problem(), o->n, o->seed, o->n_exact, o->repeats);
      if (out.empty()) {
        throw InvalidArgument("eval: the model's marginals are neither all Gaussian nor 2-D/3-D, so no exact "
                              "barycenter is known; pass --reference samples.npy");
      }
    }
    std::cout << out.dump(2) << "\n";
  });
}

}  // namespace wbary::cli
