// File: wbary/cli/common.h
//
// What the `wbary` subcommands share: registration signatures, marginal
// and weight parsing, thread set-up and the version banner. Each verb lives
// in its own file and stays a thin layer over the library (STYLE.md rule 12).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/problem.h"
#include "wbary/training/device.h"
#include "wbary/training/training.h"

namespace wbary::distributed {
class AgreedStop;
class ProcessGroup;
}  // namespace wbary::distributed

namespace wbary::cli {

void register_fit(CLI::App& app);
void register_sample(CLI::App& app);
void register_push_pull(CLI::App& app);
void register_eval(CLI::App& app);
void register_gaussian(CLI::App& app);
void register_draw(CLI::App& app);
void register_grid(CLI::App& app);
void register_w2(CLI::App& app);
void register_free_support(CLI::App& app);
void register_fixed_support(CLI::App& app);
void register_map(CLI::App& app);
void register_robust(CLI::App& app);
void register_grid_predict(CLI::App& app);
void register_grid_learning(CLI::App& app);
void register_recolor(CLI::App& app);

/// Throws InvalidArgument naming the flag unless 1 <= index <= count (a
/// 1-based marginal index on the command line).
void check_marginal_index(const std::string& flag, int64_t index, int64_t count);

/// "0.3,0.7" -> {0.3, 0.7}; throws InvalidArgument naming the flag.
std::vector<double> parse_number_list(const std::string& text, const std::string& flag);

/// File paths are made absolute, so that a model can find its marginals
/// again from any working directory: a cloud's path, and the files a
/// synthetic spec names (path=, json=); other keys are kept as they are.
std::string canonical_spec(const std::string& spec);

/// Builds the problem from --marginal specs and --weights (may be empty).
barycenter::BarycenterProblem make_problem(const std::vector<std::string>& specs, const std::string& weights);

/// --threads: LibTorch's intra-op threads (0 = all cores).
using training::set_threads;

/// "wbary 0.1.0 (LibTorch 1.13.x, BLAS: openblas-openmp, 2 threads)".
std::string version_banner();

/// The coordinates of 2-D points [n, 2] as a flat row-major vector (for io::ScatterPlot).
std::vector<double> as_xy(const at::Tensor& points);

/// The callbacks every `... fit` verb trains with: a progress line every
/// `progress_every` steps (0 = none), an optional time limit (seconds > 0),
/// Ctrl-C / SIGTERM, and `checkpoint()` every `checkpoint_every` steps.
/// With a process group the time limit and Ctrl-C are agreed on by every
/// rank (distributed::AgreedStop), so that all stop after the same step.
class TrainingCallbacks {
 public:
  TrainingCallbacks(int64_t progress_every, double time_limit, int64_t checkpoint_every,
                    std::function<void()> checkpoint, distributed::ProcessGroup* group = nullptr);
  ~TrainingCallbacks();
  const std::vector<training::TrainingCallback*>& list() const { return list_; }
  /// Whether Ctrl-C / SIGTERM stopped training (in this process).
  static bool interrupted() { return training::CancelOnSignal::requested(); }
  /// Whether Ctrl-C / SIGTERM stopped training here or, with a process group, on any rank.
  bool interrupted_anywhere() const;

 private:
  training::ProgressPrinter progress_;
  std::unique_ptr<training::TimeLimit> limit_;
  training::CancelOnSignal ctrl_c_;
  training::EveryKSteps checkpointer_;
  std::unique_ptr<distributed::AgreedStop> agreed_;
  std::vector<training::TrainingCallback*> list_;
};

/// The `--config FILE` value if present in argv (read before flag parsing
/// so that explicit flags override the file).
std::string find_config_argument(int argc, char** argv);

}  // namespace wbary::cli
