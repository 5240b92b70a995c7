#include "wbary/training/schedule_horizon.h"

#include <algorithm>
#include <cmath>

namespace wbary::training {

ScheduleHorizon::ScheduleHorizon(int64_t iterations, double budget_seconds, int64_t probe_steps)
    : iterations_(iterations), budget_(budget_seconds), probe_steps_(std::max<int64_t>(1, probe_steps)) {}

int64_t ScheduleHorizon::at(int64_t step) {
  if (budget_ <= 0) return iterations_;
  if (planned_) return *planned_;
  if (!start_) {
    start_ = Clock::now();
    start_step_ = step;
    return iterations_;
  }
  const int64_t done = step - start_step_;
  const double elapsed = std::chrono::duration<double>(Clock::now() - *start_).count();
  if (done < probe_steps_ && elapsed < 0.05 * budget_) return iterations_;
  // The steps still to come at the measured rate; the first step (timed from
  // its start) carries one-off costs, so this errs a little short, and the
  // schedule ends just before the time limit stops the run.
  const double per_step = elapsed / static_cast<double>(std::max<int64_t>(1, done));
  const double remaining = std::max(0.0, budget_ - elapsed);
  const int64_t more = static_cast<int64_t>(std::floor(remaining / per_step));
  planned_ = std::clamp<int64_t>(step + more, step + 1, std::max<int64_t>(iterations_, step + 1));
  return *planned_;
}

}  // namespace wbary::training
