// File: wbary/training/schedule_horizon.h
//
// How many steps a learning-rate schedule runs over. Without a time budget,
// the configured number of iterations. With one ("train for 20 minutes"),
// the number of steps that fit in it: the first steps of the run are timed,
// and from them the horizon is planned once and then kept, so that the
// cosine (W2 maps), the step decay (NWB) or the one-cycle (robust) reaches
// its end when the time does, instead of being cut off at its start by a
// time limit. A resumed run plans again over its own budget from where it
// resumed; such a run depends on the measured speed, so it is reproducible
// only up to the plan (the planned horizon is in the history).
//
// Example:
//   training::ScheduleHorizon horizon(config.iterations, /*budget_seconds=*/1200);
//   // at the start of every step:
//   const double progress = static_cast<double>(step) / horizon.at(step);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace wbary::training {

/// Plans a learning-rate schedule over a wall-clock budget from the first steps' times.
class ScheduleHorizon {
 public:
  /// budget_seconds <= 0: the horizon is `iterations`.
  ScheduleHorizon(int64_t iterations, double budget_seconds, int64_t probe_steps = 20);

  /// The horizon at the start of step `step` (steps done so far): `iterations`
  /// until the plan is made (after `probe_steps` steps of this process, or
  /// 5 % of the budget, whichever comes first), then the planned value,
  /// capped at `iterations`.
  int64_t at(int64_t step);
  /// The planned horizon, once made.
  std::optional<int64_t> planned() const { return planned_; }

 private:
  using Clock = std::chrono::steady_clock;
  int64_t iterations_;
  double budget_;
  int64_t probe_steps_;
  std::optional<Clock::time_point> start_;
  int64_t start_step_ = 0;
  std::optional<int64_t> planned_;
};

}  // namespace wbary::training
