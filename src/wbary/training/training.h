// File: wbary/training/training.h
//
// Hooks into long training loops (house style rule 5, after ensmallen's
// callbacks): the loop reports every step to its callbacks, and any
// callback returning true stops it cleanly after that step. Nothing below
// the CLI prints; ProgressPrinter is the one callback that writes to a
// stream, and the CLI chooses it.
//
// Example:
//   training::ProgressPrinter progress(std::cerr, /*every=*/100);
//   training::TimeLimit limit(/*seconds=*/60);
//   training::CancelOnSignal ctrl_c;            // SIGINT / SIGTERM stop the loop
//   solver.train({&progress, &limit, &ctrl_c});
#pragma once

#include <ATen/ATen.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace wbary::training {

/// What a training loop knows after an outer iteration. Every solver
/// (NWB, W2 maps, robust barycenters) reports its own named losses, in the
/// order it wants them printed.
struct StepInfo {
  int64_t step = 0;         ///< outer iterations completed
  int64_t total_steps = 0;  ///< the configured number of outer iterations
  std::vector<std::pair<std::string, double>> losses;  ///< e.g. {"loss_g", 0.1}, ...
  double elapsed_seconds = 0;  ///< training time, including earlier runs this one resumed
  double steps_per_second = 0; ///< over this process's run
  double seconds_left = 0;     ///< to total_steps at the current rate

  /// The loss called `name`; throws std::out_of_range if there is none.
  double loss(const std::string& name) const;
};

/// Hooks into a training loop: progress, checkpoints, time limit and interruption.
class TrainingCallback {
 public:
  virtual ~TrainingCallback() = default;
  /// After every outer iteration; return true to stop training.
  virtual bool on_step(const StepInfo& info) = 0;
};

/// Prints one line every `every` steps: step, the named losses, it/s, ETA.
class ProgressPrinter : public TrainingCallback {
 public:
  /// Prints to `out` every `every` steps. With a time limit (seconds of
  /// this process's training, as TimeLimit counts them) the time left is
  /// the sooner of the schedule's end and the limit.
  ProgressPrinter(std::ostream& out, int64_t every, double time_limit = 0)
      : out_(out), every_(every), time_limit_(time_limit) {}
  bool on_step(const StepInfo& info) override;

 private:
  std::ostream& out_;
  int64_t every_;
  double time_limit_;
  double start_elapsed_ = -1;
};

/// Stops once the training time of this process exceeds `seconds`.
class TimeLimit : public TrainingCallback {
 public:
  /// Stops training after this many seconds of wall-clock time.
  explicit TimeLimit(double seconds);
  bool on_step(const StepInfo& info) override;

 private:
  double seconds_;
  double start_elapsed_ = -1;
};

/// Stops when SIGINT or SIGTERM arrives (Ctrl-C); the loop then finishes
/// its step, and the caller writes a checkpoint. Installs the handler on
/// construction and restores the previous one on destruction.
class CancelOnSignal : public TrainingCallback {
 public:
  CancelOnSignal();
  ~CancelOnSignal() override;
  bool on_step(const StepInfo& info) override;
  /// Whether SIGINT / SIGTERM arrived.
  static bool requested();

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

/// Calls `action(info)` every `every` steps (checkpoints, evaluations).
/// The action's return value stops training when true.
class EveryKSteps : public TrainingCallback {
 public:
  /// Calls action every `every` steps; training stops when it returns false.
  EveryKSteps(int64_t every, std::function<bool(const StepInfo&)> action)
      : every_(every), action_(std::move(action)) {}
  bool on_step(const StepInfo& info) override;

 private:
  int64_t every_;
  std::function<bool(const StepInfo&)> action_;
};

/// What a finished (or stopped) call to a solver's train() reports.
struct TrainingSummary {
  int64_t steps = 0;            ///< outer iterations completed in total
  bool finished = false;        ///< reached the configured number of iterations
  double elapsed_seconds = 0;   ///< total training time (including resumed runs)
  StepInfo last;                ///< the final step's report
};

/// The outer loop every solver shares: calls `step()` (which advances
/// `steps_done` and reports its losses) until `total_steps` or until a
/// callback asks to stop; fills in the timing fields, appends a record
/// {"step", each loss, "elapsed_seconds"} to `history` every `log_every`
/// steps, and adds this run's time to `elapsed_before` (so that a resumed
/// run reports the total).
TrainingSummary run_training_loop(const std::function<StepInfo()>& step, const int64_t& steps_done,
                                  int64_t total_steps, int64_t log_every, double& elapsed_before,
                                  nlohmann::json& history, const std::vector<TrainingCallback*>& callbacks);

/// Throws DivergenceError at the first non-finite loss of `info`:
/// "<what> diverged at step S: <loss> is nan (expected a finite value); <advice>".
void require_finite_losses(const StepInfo& info, const std::string& what, const std::string& advice);

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

/// Iterate averaging (Polyak & Juditsky 1992) as an exponential moving
/// average: averaged <- d averaged + (1 - d) current for each pair, with
/// d = min(decay, (1 + t) / (10 + t)) after step t (TensorFlow's
/// ExponentialMovingAverage with num_updates), so that a short run does not
/// average in its first, far-off iterates. Non-floating tensors (BatchNorm's
/// counters) are copied.
void update_moving_average(const std::vector<at::Tensor>& averaged, const std::vector<at::Tensor>& current,
                           double decay, int64_t step);

}  // namespace wbary::training
