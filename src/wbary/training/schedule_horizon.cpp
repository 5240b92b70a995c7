#include "wbary/training/schedule_horizon.h"

#include <algorithm>
#include <cmath>

namespace wbary::training {

namespace {
// A new plan each time this fraction of the budget has passed since the last.
constexpr double kReplanFraction = 0.05;
}  // namespace

ScheduleHorizon::ScheduleHorizon(int64_t iterations, double budget_seconds, int64_t probe_steps)
    : iterations_(iterations), budget_(budget_seconds), probe_steps_(std::max<int64_t>(1, probe_steps)) {}

double ScheduleHorizon::progress(int64_t step) {
  if (budget_ > 0 && !start_) start_ = Clock::now();
  const double elapsed = start_ ? std::chrono::duration<double>(Clock::now() - *start_).count() : 0.0;
  return progress(step, elapsed);
}

double ScheduleHorizon::progress(int64_t step, double elapsed) {
  replanned_ = false;
  const auto linear = [](int64_t s, int64_t horizon) {
    return horizon > 0 ? std::min(1.0, static_cast<double>(s) / static_cast<double>(horizon)) : 1.0;
  };
  if (budget_ <= 0) return linear(step, iterations_);
  if (!started_) {
    // This process's first step (a resumed run starts at its own step).
    started_ = true;
    anchor_step_ = step;
    anchor_seconds_ = elapsed;
  }
  const auto current = [&](int64_t s) {
    if (!planned_) return linear(s, iterations_);
    const int64_t span = std::max<int64_t>(1, *planned_ - anchor_step_);
    return std::min(1.0, anchor_progress_ + (1 - anchor_progress_) * static_cast<double>(s - anchor_step_) /
                                               static_cast<double>(span));
  };
  const int64_t done = step - anchor_step_;
  const double since = elapsed - anchor_seconds_;
  const bool first = !planned_ && done > 0 && (done >= probe_steps_ || since >= kReplanFraction * budget_);
  const bool again = planned_ && since >= kReplanFraction * budget_ && done > 0;
  if (first || again) {
    // The steps still to come at the speed of the stretch since the last plan
    // (the first stretch is short and its steps are not typical; the next
    // plans correct it).
    const double p = current(step);
    const double per_step = since / static_cast<double>(done);
    const double remaining = std::max(0.0, budget_ - elapsed);
    const int64_t more = per_step > 0 ? static_cast<int64_t>(std::floor(remaining / per_step)) : iterations_;
    planned_ = std::clamp<int64_t>(step + more, step + 1, std::max<int64_t>(iterations_, step + 1));
    anchor_step_ = step;
    anchor_seconds_ = elapsed;
    anchor_progress_ = p;
    replanned_ = true;
  }
  return current(step);
}

}  // namespace wbary::training
