// `wbary free-support`: free-support barycenter of point clouds (Cuturi &
// Doucet 2014, Alg. 2).
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/data/sampler.h"
#include "wbary/error.h"
#include "wbary/ot/fixed_support_barycenter.h"
#include "wbary/ot/free_support_barycenter.h"

namespace wbary::cli {

void register_free_support(CLI::App& app) {
  struct Options {
    std::vector<std::string> marginals;
    std::string weights, init, out;
    int64_t support = 500;
    uint64_t seed = 0;
    int threads = 0;
    ot::FreeSupportConfig config;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("free-support",
                                     "Free-support W2 barycenter of point clouds (Cuturi & Doucet 2014, Alg. 2)");
  cmd->add_option("--marginal,-m", o->marginals, "an input cloud (.npy/.csv, uniform weights); repeat")->required();
  cmd->add_option("--weights", o->weights, "barycentric weights, e.g. 0.3,0.7 (default uniform; normalised)");
  cmd->add_option("--support", o->support, "number k of barycenter points")->capture_default_str();
  cmd->add_option("--init", o->init, "initial support [k, d] (default: k points drawn from the inputs)");
  cmd->add_option("--seed", o->seed, "seed of the default initial support")->capture_default_str();
  cmd->add_option("--iterations", o->config.max_iterations)->capture_default_str();
  cmd->add_option("--tolerance", o->config.tolerance, "stop when sum |X_{t+1} - X_t|^2 <= this")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--out,-o", o->out, "barycenter support (.npy/.csv)")->required();
  cmd->callback([o] {
    set_threads(o->threads);
    std::vector<at::Tensor> clouds;
    for (const auto& m : o->marginals) clouds.push_back(data::read_points(m));
    for (size_t i = 1; i < clouds.size(); ++i) {
      if (clouds[i].size(1) != clouds[0].size(1)) {
        throw InvalidArgument(o->marginals[i] + ": dimension " + std::to_string(clouds[i].size(1)) + ", expected " +
                              std::to_string(clouds[0].size(1)) + " like " + o->marginals[0]);
      }
    }
    at::Tensor init;
    if (!o->init.empty()) {
      init = data::read_points(o->init);
    } else {
      if (o->support < 1) throw InvalidArgument("--support: expected >= 1");
      const at::Tensor all = at::cat(clouds);
      at::Generator gen = data::make_generator(o->seed);
      init = all.index_select(0, at::randint(all.size(0), {o->support}, gen, at::TensorOptions().dtype(at::kLong)));
    }
    std::vector<double> weights;
    if (!o->weights.empty()) weights = parse_number_list(o->weights, "--weights");
    const auto start = std::chrono::steady_clock::now();
    const ot::FreeSupportResult r = ot::FreeSupportBarycenter(o->config).solve(clouds, {}, init, weights);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.converged && o->config.tolerance > 0) {
      std::cerr << "warning: did not converge in " << r.iterations << " iterations (displacement "
                << r.displacement_trace.back() << " > --tolerance " << o->config.tolerance << ")\n";
    }
    if (!r.certified) std::cerr << "warning: an exact OT solve was not certified optimal (round-off)\n";
    data::write_points(o->out, r.support, /*exact=*/true);
    std::cout << nlohmann::json{{"iterations", r.iterations},
                                {"converged", r.converged},
                                {"final_displacement", r.displacement_trace.back()},
                                {"pivots", r.pivot_trace},
                                {"seconds", seconds},
                                {"out", o->out}}
                     .dump()
              << "\n";
  });
}

void register_fixed_support(CLI::App& app) {
  struct Options {
    std::vector<std::string> histograms;
    std::string cost, weights, out;
    ot::FixedSupportConfig config;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "fixed-support", "Entropic barycenter of histograms on a shared support (Benamou et al. 2015)");
  cmd->add_option("--hist", o->histograms, "an input histogram ([n] .npy/.csv); repeat")->required();
  cmd->add_option("--cost", o->cost, "cost between the n support points ([n, n] .npy/.csv)")->required();
  cmd->add_option("--weights", o->weights, "barycentric weights (default uniform; normalised)");
  cmd->add_option("--eps", o->config.epsilon, "entropic regularisation (POT's reg)")->capture_default_str();
  cmd->add_option("--iterations", o->config.max_iterations)->capture_default_str();
  cmd->add_option("--tolerance", o->config.tolerance)->capture_default_str();
  cmd->add_option("--out,-o", o->out, "barycenter histogram (.npy/.csv)")->required();
  cmd->callback([o] {
    std::vector<at::Tensor> hs;
    for (const auto& h : o->histograms) hs.push_back(data::read_points(h).reshape({-1}));
    std::vector<double> weights;
    if (!o->weights.empty()) weights = parse_number_list(o->weights, "--weights");
    const ot::BregmanResult r = ot::FixedSupportBarycenter(o->config).solve(hs, data::read_points(o->cost), weights);
    if (!r.converged) {
      std::cerr << "warning: did not converge in " << r.iterations << " iterations (error "
                << (r.error_trace.empty() ? 0.0 : r.error_trace.back()) << "); raise --iterations or --eps\n";
    }
    data::write_points(o->out, r.barycenter.unsqueeze(1), /*exact=*/true);
  });
}

}  // namespace wbary::cli
