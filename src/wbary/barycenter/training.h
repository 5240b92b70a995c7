// File: wbary/barycenter/training.h
//
// Hooks into long training loops (house style rule 5, after ensmallen's
// callbacks): the loop reports every step to its callbacks, and any
// callback returning true stops it cleanly after that step. Nothing below
// the CLI prints; ProgressPrinter is the one callback that writes to a
// stream, and the CLI chooses it.
//
// Example:
//   barycenter::ProgressPrinter progress(std::cerr, /*every=*/100);
//   barycenter::TimeLimit limit(/*seconds=*/60);
//   barycenter::CancelOnSignal ctrl_c;            // SIGINT / SIGTERM stop the loop
//   solver.train({&progress, &limit, &ctrl_c});
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <ostream>
#include <string>

namespace wbary::barycenter {

/// What the loop knows after an outer iteration.
struct StepInfo {
  int64_t step = 0;         // outer iterations completed
  int64_t total_steps = 0;  // the configured number of outer iterations
  // Per-network-family losses, averaged over marginals with weights a_i:
  double loss_g = 0;           // mean f_i(grad g_i(Y)) - <Y, grad g_i(Y)>  (g minimises)
  double loss_f = 0;           // mean f_i(h(Z)) - mean f_i(grad g_i(Y))      (f minimises)
  double loss_h = 0;           // mean |h(Z)|^2 / 2 - sum_i a_i f_i(h(Z))   (h minimises)
  double barycenter_cost = 0;  // estimate of sum_i a_i W2^2(h#eta, mu_i) on the batch
  double elapsed_seconds = 0;  // training time, including earlier runs this one resumed
  double steps_per_second = 0; // over this process's run
  double seconds_left = 0;     // to total_steps at the current rate
};

class TrainingCallback {
 public:
  virtual ~TrainingCallback() = default;
  /// After every outer iteration; return true to stop training.
  virtual bool on_step(const StepInfo& info) = 0;
};

/// Prints one line every `every` steps: step, losses, cost, it/s, ETA.
class ProgressPrinter : public TrainingCallback {
 public:
  ProgressPrinter(std::ostream& out, int64_t every) : out_(out), every_(every) {}
  bool on_step(const StepInfo& info) override;

 private:
  std::ostream& out_;
  int64_t every_;
};

/// Stops once the training time of this process exceeds `seconds`.
class TimeLimit : public TrainingCallback {
 public:
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
  static bool requested();

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

/// Calls `action(info)` every `every` steps (checkpoints, evaluations).
/// The action's return value stops training when true.
class EveryKSteps : public TrainingCallback {
 public:
  EveryKSteps(int64_t every, std::function<bool(const StepInfo&)> action)
      : every_(every), action_(std::move(action)) {}
  bool on_step(const StepInfo& info) override;

 private:
  int64_t every_;
  std::function<bool(const StepInfo&)> action_;
};

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace wbary::barycenter
