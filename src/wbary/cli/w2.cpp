// `wbary w2`: exact W2 between two point clouds (network simplex).
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "wbary/cli/common.h"
#include "wbary/data/empirical.h"
#include "wbary/error.h"
#include "wbary/io/csv.h"
#include "wbary/ot/exact_transport.h"
#include "wbary/ot/sinkhorn.h"

namespace wbary::cli {

void register_w2(CLI::App& app) {
  struct Options {
    std::string a, b, weights_a, weights_b, plan;
    int threads = 0;
    ot::SinkhornConfig sinkhorn{.epsilon = 0};
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("w2", "Exact W2 distance between two point clouds (network simplex on the transportation problem, dual-certified)");
  cmd->add_option("a", o->a, "first cloud (.npy or .csv, [n, d])")->required();
  cmd->add_option("b", o->b, "second cloud (.npy or .csv, [m, d])")->required();
  cmd->add_option("--weights-a", o->weights_a, "weights of the first cloud ([n] .npy/.csv; default uniform; normalised)");
  cmd->add_option("--weights-b", o->weights_b, "weights of the second cloud");
  cmd->add_option("--plan", o->plan, "write the optimal plan's non-zero entries (i, j, mass) as .csv");
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
  cmd->add_option("--eps", o->sinkhorn.epsilon, "entropic OT (log-domain Sinkhorn) with this reg instead of exact OT");
  cmd->add_option("--iterations", o->sinkhorn.max_iterations, "Sinkhorn iteration cap")->capture_default_str();
  cmd->add_option("--tolerance", o->sinkhorn.tolerance, "Sinkhorn marginal tolerance")->capture_default_str();
  cmd->footer("\nExample:\n  wbary w2 a.npy b.npy            # prints {\"w2_squared\": ..., \"w2\": ..., \"optimal\": true, ...}\n");
  cmd->callback([o] {
    set_threads(o->threads);
    const at::Tensor x = data::read_points(o->a), y = data::read_points(o->b);
    if (x.size(1) != y.size(1)) {
      throw InvalidArgument(o->b + ": points have dimension " + std::to_string(y.size(1)) + ", expected " +
                            std::to_string(x.size(1)) + " like " + o->a);
    }
    auto weights = [](const std::string& path) {
      return path.empty() ? at::Tensor() : data::read_points(path).reshape({-1});
    };
    const auto start = std::chrono::steady_clock::now();
    if (o->sinkhorn.epsilon != 0) {
      const auto opts = at::TensorOptions().dtype(at::kDouble);
      const at::Tensor wa = o->weights_a.empty() ? at::ones({x.size(0)}, opts) : weights(o->weights_a);
      const at::Tensor wb = o->weights_b.empty() ? at::ones({y.size(0)}, opts) : weights(o->weights_b);
      const ot::SinkhornResult s = ot::Sinkhorn(o->sinkhorn).solve(wa, wb, ot::squared_distances(x, y));
      if (!s.converged) {
        std::cerr << "warning: Sinkhorn did not converge in " << s.iterations << " iterations (marginal error "
                  << s.error_trace.back() << " > " << o->sinkhorn.tolerance << "); raise --iterations or --eps\n";
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << nlohmann::json{{"sinkhorn_cost", s.cost}, {"epsilon", o->sinkhorn.epsilon},
                                  {"converged", s.converged}, {"iterations", s.iterations},
                                  {"final_error", s.error_trace.back()}, {"seconds", seconds}}.dump(2)
                << "\n";
      return;
    }
    const ot::ExactTransportResult r = ot::exact_w2(x, y, weights(o->weights_a), weights(o->weights_b));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r.status == "infeasible" || r.status == "unbounded") throw InvalidArgument("exact W2: problem is " + r.status);
    if (!r.optimal) {
      std::cerr << "warning: the network simplex result is not certified optimal (min reduced cost "
                << r.min_reduced_cost << ", duality gap " << r.duality_gap << ")\n";
    }
    if (!o->plan.empty()) {
      io::Table t;
      t.shape = {static_cast<int64_t>(r.plan.size()), 3};
      for (const auto& e : r.plan) t.values.insert(t.values.end(), {double(e.i), double(e.j), e.mass});
      io::write_csv(o->plan, t);
    }
    const nlohmann::json out = {{"w2_squared", r.cost}, {"w2", std::sqrt(r.cost)}, {"n", x.size(0)},
                                {"m", y.size(0)},       {"optimal", r.optimal},     {"status", r.status},
                                {"duality_gap", r.duality_gap}, {"plan_entries", r.plan.size()}, {"pivots", r.pivots},
                                {"seconds", seconds}};
    std::cout << out.dump(2) << "\n";
  });
}

}  // namespace wbary::cli
