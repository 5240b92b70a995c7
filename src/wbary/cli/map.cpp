// `wbary map ...`: two-measure W2 maps (Amos 2023): fit, push (forward map),
// pull (inverse map), sample (a flow from samples) and bench (the L2-UVP
// table on pairs with a known optimal map).
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "wbary/cli/common.h"
#include "wbary/cli/config_flags.h"
#include "wbary/data/empirical.h"
#include "wbary/data/spec.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/scatter_plot.h"
#include "wbary/maps/known_map_pair.h"
#include "wbary/maps/w2_map.h"
#include "wbary/metrics/transport_map.h"

namespace wbary::cli {
namespace {

struct LoopOptions {
  std::string out;
  bool resume = false;
  double time_limit = 0;
  int64_t checkpoint_every = 1000;
  int64_t progress_every = 100;
  bool quiet = false;
};

// --time-limit T plans the cosine over T seconds unless --schedule-seconds
// says otherwise, so that "train for T" ends with the learning rate down.
maps::W2MapConfig with_time_schedule(maps::W2MapConfig config, double time_limit) {
  if (time_limit > 0 && config.schedule_seconds == 0) config.schedule_seconds = time_limit;
  return config;
}

// Trains with progress, time limit, Ctrl-C and periodic checkpoints; the
// checkpoint is OUT/checkpoint.pt. Returns whether Ctrl-C stopped it.
bool train_with_callbacks(maps::W2Map& solver, const LoopOptions& o, training::TrainingSummary& summary) {
  const std::string checkpoint = o.out + "/checkpoint.pt";
  if (o.resume) {
    solver.load_checkpoint(checkpoint);
    if (!o.quiet) std::cerr << "resumed from " << checkpoint << " at step " << solver.steps_done() << "\n";
  }
  TrainingCallbacks callbacks(o.quiet ? 0 : o.progress_every, o.time_limit, o.checkpoint_every,
                              [&] { solver.save_checkpoint(checkpoint); });
  summary = solver.train(callbacks.list());
  solver.save_checkpoint(checkpoint);
  return TrainingCallbacks::interrupted();
}

void run_map_fit(const std::string& source_spec, const std::string& target_spec, const LoopOptions& o,
                 const maps::W2MapConfig& config, int threads) {
  set_threads(threads);
  maps::W2MapProblem problem{data::make_sampler(source_spec), data::make_sampler(target_spec),
                             canonical_spec(source_spec), canonical_spec(target_spec)};
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw IoError(o.out + ": cannot create output directory: " + ec.message());
  maps::W2Map solver(problem, with_time_schedule(config, o.time_limit));
  if (!o.quiet) {
    std::cerr << version_banner() << "\n"
              << "W2 map in R^" << solver.model().dim() << ": " << problem.source->describe() << " -> "
              << problem.target->describe() << "\n  potential " << to_string(config.potential) << ", amortization "
              << to_string(config.amortization) << ", conjugate " << to_string(config.conjugate.kind) << ", "
              << config.iterations << " steps\n";
  }
  training::TrainingSummary summary;
  const bool interrupted = train_with_callbacks(solver, o, summary);
  const auto& model = solver.model();
  model.save(o.out);
  at::Generator gen = data::make_generator(data::derive_seed(config.seed, 0x6f7574, 0));
  const at::Tensor x = problem.source->sample(2000, gen);
  const at::Tensor pushed = model.forward(x);
  data::write_points(o.out + "/pushed.npy", pushed);
  nlohmann::json report = model.metadata();
  report["steps"] = summary.steps;
  report["finished"] = summary.finished;
  report["interrupted"] = interrupted;
  report["training_seconds"] = summary.elapsed_seconds;
  report["final"] = nlohmann::json::object();
  for (const auto& [name, value] : summary.last.losses) report["final"][name] = value;
  report["outputs"] = {{"model", o.out + "/model.pt"}, {"pushed", o.out + "/pushed.npy"}};
  if (model.dim() == 2) {
    io::ScatterPlot plot(3, 360);
    plot.add_points(0, as_xy(x), io::kBlue);
    plot.add_points(1, as_xy(problem.target->sample(2000, gen)), io::kOrange);
    plot.add_points(2, as_xy(pushed), io::kBlack);
    plot.write(o.out + "/plot.png");
    report["outputs"]["plot"] = o.out + "/plot.png";
  }
  io::write_text_atomically(o.out + "/report.json", report.dump(2));
  if (!o.quiet) {
    std::cerr << "wrote " << o.out << "/{model.pt, model.json, pushed.npy, report.json"
              << (model.dim() == 2 ? ", plot.png" : "") << "}\n";
  }
  if (interrupted) {
    std::cerr << "interrupted at step " << summary.steps << "; checkpoint written to " << o.out
              << "/checkpoint.pt (continue with the same command and --resume)\n";
    std::exit(130);
  }
}

struct BenchRow {
  int64_t dim;
  double linear_uvp, linear_cos, uvp_fwd, cos_fwd, uvp_inv, uvp_amortized_inv, seconds, steps;
};

BenchRow bench_one(int64_t d, const maps::W2MapConfig& base, double time_limit, bool quiet) {
  const maps::KnownMapPair pair = maps::KnownMapPair::make(d, /*seed=*/0);
  const maps::W2MapConfig config = with_time_schedule(base, time_limit);
  maps::W2Map solver({pair.source(), pair.target(), "benchmark-source", "benchmark-target"}, config);
  TrainingCallbacks callbacks(quiet ? 0 : std::max<int64_t>(1, config.iterations / 10), time_limit,
                              /*checkpoint_every=*/0, [] {});
  const auto summary = solver.train(callbacks.list());
  // Korotin's scoring: 4096 fresh source samples; Var from 2^14 samples.
  at::Generator gen = data::make_generator(data::derive_seed(1234, d, 0));
  const at::Tensor x = pair.source()->sample(4096, gen);
  const at::Tensor truth = pair.optimal_map(x);
  const at::Tensor fitted = solver.model().forward(x);
  const at::Tensor linear = pair.linear_baseline()(x);
  const double var_p = metrics::total_variance(pair.source()->sample(1 << 14, gen));
  BenchRow r;
  r.dim = d;
  r.linear_uvp = metrics::l2_uvp(linear, truth, pair.target_variance());
  r.linear_cos = metrics::displacement_cosine(x, linear, truth);
  r.uvp_fwd = metrics::l2_uvp(fitted, truth, pair.target_variance());
  r.cos_fwd = metrics::displacement_cosine(x, fitted, truth);
  r.uvp_inv = metrics::l2_uvp(solver.model().inverse(truth), x, var_p);
  r.uvp_amortized_inv = metrics::l2_uvp(solver.model().amortized_inverse(truth), x, var_p);
  r.seconds = summary.elapsed_seconds;
  r.steps = static_cast<double>(summary.steps);
  return r;
}

}  // namespace

void register_map(CLI::App& app) {
  CLI::App* map = app.add_subcommand("map", "Two-measure W2 maps with amortized conjugates (Amos 2023)");
  map->require_subcommand(1);

  {  // fit
    struct Options {
      std::string source, target;
      LoopOptions loop;
      int threads = 0;
      maps::W2MapConfig config;
      std::shared_ptr<ConfigFlags> flags;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = map->add_subcommand("fit", "Learn the W2 (Brenier) map from samples of a source to a target");
    cmd->footer(std::string("\n") + data::sampler_spec_help() +
                "\nExamples:\n"
                "  wbary map fit --source a.npy --target b.npy --out run/\n"
                "  wbary map fit --source normal:dim=2 --target ring:inner=0.6,outer=1 --iterations 2000 --out flow/\n");
    cmd->add_option("--source,-s", o->source, "source measure: file or spec");
    cmd->add_option("--target,-t", o->target, "target measure: file or spec");
    cmd->add_option("--out,-o", o->loop.out, "output directory (model, pushed samples, report, checkpoint)");
    cmd->add_flag("--resume", o->loop.resume, "continue from OUT/checkpoint.pt");
    o->flags = std::make_shared<ConfigFlags>(cmd);
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores")->capture_default_str();
    cmd->add_option("--time-limit", o->loop.time_limit, "stop after this many seconds of training (0 = none)");
    cmd->add_option("--checkpoint-every", o->loop.checkpoint_every, "write OUT/checkpoint.pt every k steps")->capture_default_str();
    cmd->add_option("--progress-every", o->loop.progress_every, "progress line every k steps")->capture_default_str();
    cmd->add_flag("--quiet,-q", o->loop.quiet, "no progress output");
    o->flags->add_method("map", maps::fields(o->config));
    cmd->callback([o] {
      o->flags->apply("map", maps::fields(o->config));
      if (o->flags->dump_config()) {
        std::cout << maps::to_json(o->config).dump(2) << "\n";
        return;
      }
      if (o->source.empty() || o->target.empty()) throw InvalidArgument("map fit: --source and --target are required");
      if (o->loop.out.empty()) throw InvalidArgument("map fit: --out DIR is required");
      o->config.validate();
      run_map_fit(o->source, o->target, o->loop, o->config, o->threads);
    });
  }

  for (const bool push : {true, false}) {  // push / pull
    struct Options {
      std::string model, in, out, device;
      bool amortized = false;
      int threads = 0;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = map->add_subcommand(
        push ? "push" : "pull",
        push ? "Forward map grad f(x): source points -> target"
             : "Inverse map: target points -> source (the conjugate's argmin, fine-tuned from the amortized guess)");
    cmd->add_option("--model", o->model, "model directory written by `wbary map fit`")->required();
    cmd->add_option("--in", o->in, "input points (.npy or .csv, [n, d])")->required();
    cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
    if (!push) cmd->add_flag("--amortized", o->amortized, "use the amortization network alone (no fine-tuning)");
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--device", o->device, "cpu | cuda | cuda:N (default: as trained)");
    cmd->callback([o, push] {
      set_threads(o->threads);
      const auto model = maps::W2MapModel::load(o->model, o->device);
      const at::Tensor x = data::read_points(o->in);
      if (x.size(1) != model.dim()) {
        throw InvalidArgument(o->in + ": points have dimension " + std::to_string(x.size(1)) + ", expected " +
                              std::to_string(model.dim()) + " (the model's)");
      }
      data::write_points(o->out, push ? model.forward(x) : o->amortized ? model.amortized_inverse(x) : model.inverse(x));
    });
  }

  {  // sample
    struct Options {
      std::string model, out, source, device;
      int64_t n = 1000;
      uint64_t seed = 0;
      int threads = 0;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = map->add_subcommand(
        "sample", "Generate target-like points: draw the source (e.g. normal:dim=d) and push it through the map");
    cmd->add_option("--model", o->model, "model directory written by `wbary map fit`")->required();
    cmd->add_option("--n", o->n, "number of samples")->capture_default_str();
    cmd->add_option("--seed", o->seed)->capture_default_str();
    cmd->add_option("--source", o->source, "source to draw from (default: the one the model was fitted on)");
    cmd->add_option("--out,-o", o->out, "output .npy or .csv")->required();
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_option("--device", o->device, "cpu | cuda | cuda:N (default: as trained)");
    cmd->footer("\nExample (a flow from samples):\n"
                "  wbary map fit --source normal:dim=2 --target cloud.npy --out flow/\n"
                "  wbary map sample --model flow/ --n 10000 --out new_points.npy\n");
    cmd->callback([o] {
      set_threads(o->threads);
      if (o->n < 1) throw InvalidArgument("--n: got " + std::to_string(o->n) + ", expected >= 1");
      const auto model = maps::W2MapModel::load(o->model, o->device);
      const std::string spec = o->source.empty() ? model.source_spec() : o->source;
      const auto source = data::make_sampler(spec);
      if (source->dim() != model.dim()) {
        throw InvalidArgument(spec + ": source has dimension " + std::to_string(source->dim()) + ", the model " +
                              std::to_string(model.dim()));
      }
      at::Generator gen = data::make_generator(o->seed);
      data::write_points(o->out, model.forward(source->sample(o->n, gen)));
    });
  }

  {  // bench
    struct Options {
      std::string dims = "2,4,8,16,32,64,128,256";
      std::string out;
      double time_limit = 0;
      int threads = 0;
      bool quiet = false;
      maps::W2MapConfig config;
      std::shared_ptr<ConfigFlags> flags;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = map->add_subcommand(
        "bench", "L2-UVP table on in-house pairs with a known optimal map (Korotin et al. 2021's construction)");
    cmd->add_option("--dims", o->dims, "comma-separated dimensions")->capture_default_str();
    cmd->add_option("--time-limit", o->time_limit, "training seconds per dimension (0 = --iterations only)");
    cmd->add_option("--out,-o", o->out, "also write the table as JSON here");
    cmd->add_option("--threads", o->threads, "CPU threads; 0 = all cores");
    cmd->add_flag("--quiet,-q", o->quiet, "no progress output");
    o->flags = std::make_shared<ConfigFlags>(cmd);
    o->flags->add_method("map", maps::fields(o->config));
    cmd->callback([o] {
      o->flags->apply("map", maps::fields(o->config));
      if (o->flags->dump_config()) {
        std::cout << maps::to_json(o->config).dump(2) << "\n";
        return;
      }
      set_threads(o->threads);
      o->config.validate();
      std::vector<BenchRow> rows;
      for (double dd : parse_number_list(o->dims, "--dims")) {
        const auto d = static_cast<int64_t>(dd);
        if (d < 1 || static_cast<double>(d) != dd) throw InvalidArgument("--dims: expected positive integers");
        rows.push_back(bench_one(d, o->config, o->time_limit, o->quiet));
        if (TrainingCallbacks::interrupted()) break;
      }
      std::ostringstream t;
      t << std::fixed << std::setprecision(2)
        << "| d | linear L2-UVP % | L2-UVP fwd % | cos fwd | L2-UVP inv % (fine-tuned / amortized) | steps | s/step | total s |\n"
        << "|---|---|---|---|---|---|---|---|\n";
      nlohmann::json j = nlohmann::json::array();
      for (const BenchRow& r : rows) {
        t << "| " << r.dim << " | " << r.linear_uvp << " | " << r.uvp_fwd << " | " << std::setprecision(3) << r.cos_fwd
          << std::setprecision(2) << " | " << r.uvp_inv << " / " << r.uvp_amortized_inv << " | " << r.steps << " | "
          << std::setprecision(4) << r.seconds / std::max(r.steps, 1.0) << std::setprecision(2) << " | " << r.seconds
          << " |\n";
        j.push_back({{"dim", r.dim}, {"linear_l2_uvp", r.linear_uvp}, {"linear_cos", r.linear_cos},
                     {"l2_uvp_fwd", r.uvp_fwd}, {"cos_fwd", r.cos_fwd}, {"l2_uvp_inv", r.uvp_inv},
                     {"l2_uvp_inv_amortized", r.uvp_amortized_inv}, {"steps", r.steps}, {"seconds", r.seconds}});
      }
      std::cout << "config: " << maps::to_json(with_time_schedule(o->config, o->time_limit)).dump() << "\n" << t.str();
      if (!o->out.empty()) io::write_text_atomically(o->out, nlohmann::json{{"config", maps::to_json(with_time_schedule(o->config, o->time_limit))}, {"rows", j}}.dump(2));
    });
  }
}

}  // namespace wbary::cli
