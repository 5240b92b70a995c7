// File: wbary/training/schedule_horizon.h
//
// How far along its learning-rate schedule a run is. Without a time budget,
// step / iterations. With one ("train for 20 minutes"), the fraction of the
// steps that fit in it, so that the cosine (W2 maps), the step decay (NWB) or
// the one-cycle (robust) reaches its end when the time does instead of being
// cut off at its start by a time limit.
//
// The steps that fit are planned from the measured speed: first after a few
// probe steps, then again each time another 5 % of the budget has passed,
// from the speed over that last stretch. A step's cost drifts over a long run
// (W2 maps: the first steps are cheap while f is still |x|^2/2, whose
// conjugate the solver finds at once; a machine's load changes), and a plan
// made once from the first steps would leave the schedule unfinished (on
// Korotin's pairs, 45 min: planned 181 802 steps where 136 003 fitted at d = 8,
// BENCHMARKS.md), or end it early and spend the rest at the final rate. Each new plan keeps the progress
// reached so far and spreads what is left linearly over the steps it
// expects, so the progress is continuous and never decreases.
//
// A resumed run plans again over its own budget from where it resumed; such a
// run depends on the measured speed, so it is reproducible only up to the
// plans (each plan's horizon is in the history).
//
// Example:
//   training::ScheduleHorizon horizon(config.iterations, /*budget_seconds=*/1200);
//   // at the start of every step:
//   const double p = horizon.progress(step);  // in [0, 1]
//   if (horizon.replanned()) history.push_back({{"step", step}, {"schedule_horizon", *horizon.planned()}});
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace wbary::training {

/// A learning-rate schedule's progress over a step count or a wall-clock budget.
class ScheduleHorizon {
 public:
  /// budget_seconds <= 0: the progress is step / iterations.
  ScheduleHorizon(int64_t iterations, double budget_seconds, int64_t probe_steps = 20);

  /// The progress in [0, 1] at the start of step `step` (steps done so far).
  /// step / iterations until the first plan (after `probe_steps` steps of this
  /// process, or 5 % of the budget, whichever comes first); then, from the
  /// progress p0 reached at the latest plan's step s0 with horizon H,
  /// p0 + (1 - p0) (step - s0) / (H - s0). H never exceeds `iterations`.
  double progress(int64_t step);
  /// The same with the seconds since this process's first call given (tests).
  double progress(int64_t step, double elapsed_seconds);

  /// The latest plan's horizon (steps), once made.
  std::optional<int64_t> planned() const { return planned_; }
  /// Whether the last progress() call made or changed the plan.
  bool replanned() const { return replanned_; }

 private:
  using Clock = std::chrono::steady_clock;
  int64_t iterations_;
  double budget_;
  int64_t probe_steps_;
  std::optional<Clock::time_point> start_;
  bool started_ = false;
  std::optional<int64_t> planned_;
  bool replanned_ = false;
  // The latest plan: made at step anchor_step_, anchor_seconds_ into the run,
  // where the progress was anchor_progress_.
  int64_t anchor_step_ = 0;
  double anchor_seconds_ = 0;
  double anchor_progress_ = 0;
};

}  // namespace wbary::training
