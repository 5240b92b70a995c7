// `wbary fit`: train a continuous barycenter (NWB by default; CWB, CRWB with
// --method) and write the model, barycenter samples, a report and (2-D) a
// picture. The method's config fields are flags (cli/config_flags.h); what
// follows the training is the same for every method.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <exception>
#include <optional>
#include <nlohmann/json.hpp>

#include "wbary/barycenter/methods.h"
#include "wbary/barycenter/neural_barycenter.h"
#include "wbary/cli/config_flags.h"
#include "wbary/cli/common.h"
#include "wbary/cli/evaluation.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/distributed/marginal_partition.h"
#include "wbary/distributed/process_group.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::cli {
namespace {

struct FitOptions {
  std::vector<std::string> marginals;
  std::string weights;
  std::string out;
  std::string method = "nwb";
  bool all_weights = false;
  bool resume = false;
  int threads = 0;
  double time_limit = 0;
  int64_t checkpoint_every = 1000;
  int64_t eval_every = 0;
  int64_t eval_samples = 10000;
  int64_t eval_exact_samples = 2000;
  int64_t eval_repeats = 5;
  int64_t progress_every = 100;
  int64_t samples = 2000;
  bool quiet = false;
  bool distributed = false;
  std::string owners;
  std::shared_ptr<ConfigFlags> flags;
};

// `problem` is what evaluation and the picture read the marginals from; null
// when they are not all readable here (a distributed run's files on other
// machines).
void write_outputs(const FitOptions& o, const barycenter::BarycenterModel& model,
                   const barycenter::BarycenterProblem* problem, const training::TrainingSummary& s,
                   bool interrupted, double setup_seconds) {
  model.save(o.out);
  const at::Tensor samples = model.sample(o.samples, model.seed() + 1);
  data::write_points(o.out + "/samples.npy", samples);
  nlohmann::json report = model.metadata();
  report["steps"] = s.steps;
  report["finished"] = s.finished;
  report["interrupted"] = interrupted;
  report["training_seconds"] = s.elapsed_seconds;
  report["setup_seconds"] = setup_seconds;
  report["final"] = nlohmann::json::object();
  for (const auto& [name, value] : s.last.losses) report["final"][name] = value;
  const nlohmann::json evaluation =
      problem ? evaluate_model(model, *problem, o.eval_samples, model.seed() + 2, o.eval_exact_samples, o.eval_repeats)
              : nlohmann::json::object();
  if (!evaluation.empty()) report["evaluation"] = evaluation;
  if (!problem) report["evaluation_skipped"] = "the marginals' data lives on other ranks";
  report["outputs"] = {{"model", o.out + "/model.pt"}, {"samples", o.out + "/samples.npy"}};
  const bool plot = model.dim() == 2 && problem;
  if (plot) {
    plot_2d(model, *problem, o.out + "/plot.png", o.samples);
    report["outputs"]["plot"] = o.out + "/plot.png";
  }
  io::write_text_atomically(o.out + "/report.json", report.dump(2));
  if (!o.quiet) {
    std::cerr << "wrote " << o.out << "/{model.pt, model.json, samples.npy, report.json"
              << (plot ? ", plot.png" : "") << "}\n";
    if (!evaluation.empty()) std::cerr << "evaluation: " << evaluation_summary(evaluation) << "\n";
  }
}

// --threads 0 picks the thread count from the network size: on 2 cores the
// fused engine ran d = 2 (width 32) and d = 16 slower on 2 threads than on 1
// (BENCHMARKS.md), since tiny products cannot amortise a thread hand-off.
int automatic_threads(const barycenter::NeuralBarycenterConfig& config, int64_t dim) {
  const auto c = barycenter::resolved(config, dim);
  const int64_t work = c.batch_size * c.potential.width * (c.potential.width + dim);
  return work < 500000 ? 1 : 0;
}

// A marginal-parallel run (DESIGN.md §4): the process group from the
// environment, who owns which marginal, and a problem in which this rank has
// opened only its own marginals.
struct DistributedSetup {
  std::shared_ptr<distributed::ProcessGroup> group;
  std::optional<distributed::MarginalPartition> partition;
  barycenter::BarycenterProblem problem;
  // Rank 0's full problem for evaluation and the picture, when every remote
  // marginal is a synthetic spec it can rebuild; empty otherwise.
  std::optional<barycenter::BarycenterProblem> readable;
};

DistributedSetup connect_distributed(const FitOptions& o) {
  const auto env = distributed::ProcessGroupOptions::from_environment();
  if (!env) {
    throw InvalidArgument("--distributed: WORLD_SIZE is not set; launch every rank with RANK, WORLD_SIZE, "
                          "MASTER_ADDR and MASTER_PORT set (torchrun --no_python --nproc_per_node K wbary fit ..., "
                          "srun, or by hand)");
  }
  DistributedSetup d;
  d.group = distributed::ProcessGroup::connect(*env);
  const int64_t count = static_cast<int64_t>(o.marginals.size());
  std::vector<int> owners;
  if (!o.owners.empty()) {
    for (const double x : parse_number_list(o.owners, "--owners")) {
      if (x != static_cast<int>(x)) throw InvalidArgument("--owners: got " + std::to_string(x) + ", expected a rank");
      owners.push_back(static_cast<int>(x));
    }
    if (static_cast<int64_t>(owners.size()) != count) {
      throw InvalidArgument("--owners: got " + std::to_string(owners.size()) + " ranks for " + std::to_string(count) +
                            " marginals, expected one rank per --marginal");
    }
  }
  d.partition = owners.empty() ? distributed::MarginalPartition::round_robin(count, env->world_size, env->rank)
                               : distributed::MarginalPartition::explicit_owners(owners, env->world_size, env->rank);
  // Open the owned marginals; then agree on success and on the dimension, so
  // that one rank's missing file stops every rank with a message instead of
  // leaving them waiting in a collective.
  std::vector<std::shared_ptr<const data::Sampler>> local(o.marginals.size());
  std::exception_ptr failure;
  int64_t dim = 0;
  try {
    for (const int64_t i : d.partition->owned()) {
      local[static_cast<size_t>(i)] = data::make_sampler(o.marginals[static_cast<size_t>(i)]);
      const int64_t di = local[static_cast<size_t>(i)]->dim();
      if (dim != 0 && di != dim) {
        throw InvalidArgument("marginal " + std::to_string(i + 1) + " (" + o.marginals[static_cast<size_t>(i)] +
                              "): dimension " + std::to_string(di) + ", expected " + std::to_string(dim));
      }
      dim = di;
    }
  } catch (const std::exception&) {
    failure = std::current_exception();
  }
  at::Tensor agreed = at::tensor(std::vector<double>{!failure ? 0.0 : env->rank + 1.0, static_cast<double>(dim),
                                                     -static_cast<double>(dim)});
  d.group->all_reduce_max(agreed);
  if (failure) std::rethrow_exception(failure);
  if (agreed[0].item<double>() > 0) {
    throw Error("rank " + std::to_string(static_cast<int>(agreed[0].item<double>()) - 1) +
                " could not open its marginals (its own error message says why)");
  }
  if (agreed[1].item<double>() != -agreed[2].item<double>()) {
    throw InvalidArgument("the marginals' dimensions differ between ranks: from " +
                          std::to_string(static_cast<int64_t>(-agreed[2].item<double>())) + " to " +
                          std::to_string(static_cast<int64_t>(agreed[1].item<double>())) + ", expected one dimension");
  }
  dim = static_cast<int64_t>(agreed[1].item<double>());
  bool readable = true;
  for (int64_t i = 0; i < count; ++i) {
    const std::string& spec = o.marginals[static_cast<size_t>(i)];
    if (d.partition->owns(i)) {
      d.problem.specs.push_back(canonical_spec(spec));
      d.problem.marginals.push_back(local[static_cast<size_t>(i)]);
    } else {
      // Another machine's path: kept as written, it is not ours to resolve.
      d.problem.specs.push_back(spec);
      d.problem.marginals.push_back(std::make_shared<distributed::RemoteMarginal>(dim, d.partition->owner(i), spec));
      readable = readable && spec.find(':') != std::string::npos && spec.find("path=") == std::string::npos &&
                 spec.find("json=") == std::string::npos;
    }
  }
  if (!o.weights.empty()) d.problem.weights = parse_number_list(o.weights, "--weights");
  d.problem.validate();
  if (readable && d.group->rank() == 0) d.readable = make_problem(o.marginals, o.weights);
  return d;
}

void run_fit(FitOptions& o) {
  set_threads(o.threads);
  if (o.all_weights) {
    if (o.method != "nwb" && o.method != "nwb-all") {
      throw InvalidArgument("--all-weights is NWB-II (--method nwb-all); it does not combine with --method " + o.method);
    }
    o.method = "nwb-all";
  }
  const barycenter::Method& method = barycenter::find_method(o.method);
  config::FieldList config = method.default_config();
  o.flags->apply(method.name, config);
  if (o.flags->dump_config()) {
    std::cout << config.to_json().dump(2) << "\n";
    return;
  }
  if (o.marginals.empty()) throw InvalidArgument("fit: no --marginal given, expected at least one");
  if (o.out.empty()) throw InvalidArgument("fit: --out DIR is required");
  // A method that trains in its set-up (CWB's pre-training) stops that too at the time limit.
  if (o.time_limit > 0 && config.find("pretrain_seconds") && config.find("pretrain_seconds")->get() == 0.0) {
    config.set_text("pretrain_seconds", std::to_string(o.time_limit));
  }
  const auto environment = distributed::ProcessGroupOptions::from_environment();
  const bool distributed = o.distributed || (environment && environment->world_size > 1);
  if (distributed && method.name != "nwb") {
    throw InvalidArgument("--distributed: marginal-parallel training is implemented for --method nwb; got --method " +
                          method.name);
  }
  if (!distributed && !o.owners.empty()) throw InvalidArgument("--owners needs a distributed run (--distributed)");
  // --device cuda in a distributed run: each rank its own GPU, cuda:LOCAL_RANK (torchrun's convention).
  if (distributed && environment && config.find("device") && config.find("device")->get() == "cuda") {
    config.set_text("device", "cuda:" + std::to_string(environment->local_rank));
  }
  DistributedSetup parallel;
  if (distributed) parallel = connect_distributed(o);
  const bool rank0 = !parallel.group || parallel.group->rank() == 0;
  const bool quiet = o.quiet || !rank0;
  barycenter::BarycenterProblem problem = distributed ? parallel.problem : make_problem(o.marginals, o.weights);
  if (o.threads == 0 && method.name == "nwb") {
    barycenter::NeuralBarycenterConfig nwb;
    barycenter::update_from_json(nwb, config.to_json());
    int threads = automatic_threads(nwb, problem.dim());
    // Ranks on one machine share its cores (torchrun sets LOCAL_WORLD_SIZE).
    if (threads == 0 && distributed) {
      threads = std::max(1, training::available_cores() / std::max(1, environment ? environment->local_world_size : 1));
    }
    set_threads(threads);
  }
  std::error_code ec;
  if (rank0) std::filesystem::create_directories(o.out, ec);
  if (ec) throw IoError(o.out + ": cannot create output directory: " + ec.message());
  // --time-limit covers the solver's set-up too (CWB's pre-training to the
  // identity, CRWB's reference box), so that methods compared at equal
  // budgets get equal wall-clock time.
  const auto setup_start = std::chrono::steady_clock::now();
  std::unique_ptr<barycenter::BarycenterSolver> solver_ptr;
  if (distributed) {
    barycenter::NeuralBarycenterConfig nwb;
    barycenter::update_from_json(nwb, config.to_json());
    solver_ptr = std::make_unique<barycenter::NeuralBarycenter>(
        std::move(problem), nwb, barycenter::MarginalParallel{parallel.group, *parallel.partition});
  } else {
    solver_ptr = method.make_solver(std::move(problem), config.to_json());
  }
  const double setup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  barycenter::BarycenterSolver& solver = *solver_ptr;
  const std::string checkpoint = o.out + "/checkpoint.pt";
  if (o.resume) {
    solver.load_checkpoint(checkpoint);
    if (!quiet) std::cerr << "resumed from " << checkpoint << " at step " << solver.steps_done() << "\n";
  }
  if (!quiet) {
    std::cerr << version_banner() << "\n";
    std::cerr << solver.describe() << "\n";
    std::cerr << solver.problem().size() << " marginals in R^" << solver.problem().dim() << ":\n";
    for (size_t i = 0; i < solver.problem().size(); ++i) {
      std::cerr << "  marginal " << i + 1 << " (a = " << solver.problem().weights[i]
                << "): " << solver.problem().marginals[i]->describe() << "\n";
    }
    if (parallel.partition) std::cerr << "marginals per rank: " << parallel.partition->describe() << "\n";
  }
  // What evaluation and the picture read the marginals from.
  const barycenter::BarycenterProblem* readable =
      !distributed ? &solver.problem() : (parallel.readable ? &*parallel.readable : nullptr);

  const double time_limit = o.time_limit > 0 ? std::max(1e-3, o.time_limit - setup_seconds) : 0;
  TrainingCallbacks standard(quiet ? 0 : o.progress_every, time_limit, o.checkpoint_every,
                             [&] { solver.save_checkpoint(checkpoint); }, parallel.group.get());
  std::vector<training::TrainingCallback*> callbacks = standard.list();
  training::EveryKSteps evaluator(o.eval_every, [&](const training::StepInfo& info) {
    const auto& model = solver.result();  // collective in a distributed run: every rank calls it
    if (!readable) return false;
    nlohmann::json e = evaluate_model(model, *readable, o.eval_samples, info.step, o.eval_exact_samples);
    if (e.empty()) return false;
    e["step"] = info.step;
    e["elapsed_seconds"] = info.elapsed_seconds;
    solver.history().push_back(e);
    if (!quiet) std::cerr << "eval " << e.dump() << "\n";
    return false;
  });
  callbacks.push_back(&evaluator);

  const training::TrainingSummary summary = solver.train(callbacks);
  solver.save_checkpoint(checkpoint);
  const bool interrupted = standard.interrupted_anywhere();
  const auto& model = solver.result();
  if (rank0) {
    FitOptions shown = o;
    shown.quiet = quiet;
    write_outputs(shown, model, readable, summary, interrupted, setup_seconds);
  }
  if (interrupted) {
    if (rank0) {
      std::cerr << "interrupted at step " << summary.steps << "; checkpoint written to " << checkpoint
                << " (continue with the same command and --resume)\n";
    }
    std::exit(130);
  }
}

}  // namespace

void register_fit(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  CLI::App* cmd = app.add_subcommand("fit", "Train a continuous Wasserstein barycenter of point clouds or laws "
                                            "(NWB by default; CWB, CRWB or NWB-II for all weights with --method)");
  std::string methods;
  for (const auto& m : barycenter::methods()) methods += "  " + m.name + "  " + m.title + "\n";
  cmd->footer(std::string("\nMethods (--method):\n") + methods + "\n" + data::sampler_spec_help() +
              "\nExamples:\n"
              "  wbary fit --marginal ring:inner=0.6,outer=1 --marginal square:side=1.6 --iterations 3000 --out run/\n"
              "  wbary fit --marginal a.npy --marginal b.csv --weights 0.3,0.7 --out run/\n"
              "  wbary fit --marginal gaussian:dim=16,seed=1 --marginal gaussian:dim=16,seed=2 \\\n"
              "            --marginal gaussian:dim=16,seed=3 --eval-every 500 --out g16/\n"
              "  wbary fit --method cwb --marginal a.npy --marginal b.npy --time-limit 120 --out cwb/\n"
              "  wbary fit --method crwb --dump-config\n"
              "  wbary fit --all-weights --marginal ring --marginal square:side=1.6 --marginal disc:r=0.5 --out all/\n"
              "  wbary sample --model all/ --weights 0.2,0.3,0.5 --n 5000 --out w.npy\n"
              "  torchrun --no_python --nproc_per_node 3 wbary fit -m a.npy -m b.npy -m c.npy --out run/\n");
  cmd->add_option("--method", o->method, "the barycenter method: " + barycenter::method_names())
      ->capture_default_str();
  cmd->add_flag("--all-weights", o->all_weights,
                "one model for the barycenters of every weight vector (NWB-II, = --method nwb-all); choose the "
                "weights afterwards with `wbary sample --weights`");
  cmd->add_option("--marginal,-m", o->marginals, "a marginal: file or spec (repeat for each; see below)");
  cmd->add_option("--weights", o->weights, "barycentric weights a_i, e.g. 0.3,0.7 (default uniform)");
  cmd->add_option("--out,-o", o->out, "output directory (model, samples, report, checkpoint)");
  cmd->add_flag("--resume", o->resume, "continue from OUT/checkpoint.pt");
  o->flags = std::make_shared<ConfigFlags>(cmd);
  cmd->add_option("--threads", o->threads, "CPU threads; 0 = automatic (all cores, or 1 for small networks)")->capture_default_str();
  cmd->add_option("--time-limit", o->time_limit, "stop after this many seconds, the solver's set-up included (0 = none)");
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "write OUT/checkpoint.pt every k steps")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "evaluate every k steps (BW2-UVP for Gaussian marginals, UVP against the exact barycenter in 2-D/3-D)")->capture_default_str();
  cmd->add_option("--eval-samples", o->eval_samples, "samples per evaluation (the paper: 10000)")->capture_default_str();
  cmd->add_option("--eval-exact-samples", o->eval_exact_samples,
                  "2-D/3-D non-Gaussian inputs: points of the exact discrete barycenter the model is scored "
                  "against at the end (0 = no evaluation)")->capture_default_str();
  cmd->add_option("--eval-repeats", o->eval_repeats,
                  "independent draws averaged in that final evaluation (the periodic --eval-every uses one)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--progress-every", o->progress_every, "progress line every k steps")->capture_default_str();
  cmd->add_option("--samples", o->samples, "barycenter samples written to OUT/samples.npy")->capture_default_str();
  cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
  cmd->add_flag("--distributed", o->distributed,
                "marginal-parallel training over torch.distributed's environment (RANK, WORLD_SIZE, MASTER_ADDR, "
                "MASTER_PORT; Gloo): each rank opens and trains only its own marginals; automatic when "
                "WORLD_SIZE > 1 (e.g. torchrun --no_python --nproc_per_node 3 wbary fit ...)");
  cmd->add_option("--owners", o->owners,
                  "distributed: the rank that owns each marginal, e.g. 0,0,1 (default: marginal i on rank i mod "
                  "WORLD_SIZE)");
  for (const auto& m : barycenter::methods()) o->flags->add_method(m.name, m.default_config());
  cmd->callback([o] { run_fit(*o); });
}

}  // namespace wbary::cli
