#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/training/schedule_horizon.h"

namespace wbary::training {
namespace {

TEST(ScheduleHorizon, WithoutABudgetItIsStepOverIterations) {
  ScheduleHorizon h(500, 0);
  for (int64_t s = 0; s < 50; ++s) EXPECT_DOUBLE_EQ(h.progress(s), s / 500.0);
  EXPECT_FALSE(h.planned().has_value());
}

TEST(ScheduleHorizon, PlansTheStepsThatFitInTheBudget) {
  // 4 ms steps in a 2 s budget: ~500 steps, planned after the 20 probe steps
  // (80 ms, before 5 % of the budget). Sleeping never takes less than asked,
  // so the plan can only come out short of 500 (the upper bound is strict up
  // to one step); a loaded machine slows the probe steps, hence the loose
  // lower bound.
  ScheduleHorizon h(100000, 2.0, /*probe_steps=*/20);
  int64_t step = 0;
  while (true) {
    const double p = h.progress(step);
    if (h.planned()) break;
    EXPECT_DOUBLE_EQ(p, step / 100000.0) << "before the plan, over the configured length";
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
    ++step;
  }
  // Planned at the start of step 20, after 20 timed steps (5 % of the budget
  // is 25 of them), or earlier on a machine so loaded that 5 % passes first.
  EXPECT_TRUE(h.replanned());
  EXPECT_LE(step, 20);
  EXPECT_GE(step, 2);
  EXPECT_LE(*h.planned(), 501);
  EXPECT_GE(*h.planned(), 200);
}

TEST(ScheduleHorizon, NeverLongerThanTheIterations) {
  ScheduleHorizon h(30, 100.0, /*probe_steps=*/2);
  for (int64_t s = 0; s < 4; ++s) h.progress(s, 0.001 * s);
  ASSERT_TRUE(h.planned().has_value());
  EXPECT_EQ(*h.planned(), 30);
  EXPECT_DOUBLE_EQ(h.progress(30, 0.03), 1.0);
}

// A run whose steps get 4x cheaper half-way through its budget (the W2 map's
// conjugate solve once the amortization has learnt): planned once from the
// first steps (2 500 steps of 40 ms), the schedule would end 62.5 s into the
// 100 s and the run would spend the rest at the final rate. Planned again
// every 5 % of the budget it ends near the budget's end, and its progress
// never decreases nor jumps.
TEST(ScheduleHorizon, FollowsASpeedThatChanges) {
  const double budget = 100.0;
  ScheduleHorizon h(10000000, budget, /*probe_steps=*/20);
  // The clock as a function of the step (summing 0.04 s would drift).
  const auto clock = [](int64_t s) { return s <= 1250 ? 0.04 * s : 50 + 0.01 * (s - 1250); };
  double last = 0, at_half_budget = -1, at_three_quarters = -1;
  int64_t step = 0, plans = 0;
  for (double t = 0; t < budget - 1e-9; t = clock(++step)) {
    const double p = h.progress(step, t);
    plans += h.replanned();
    EXPECT_GE(p, last) << "step " << step;
    EXPECT_LE(p - last, 0.01) << "step " << step << ": a jump";
    last = p;
    if (at_half_budget < 0 && t >= budget / 2) at_half_budget = p;
    if (at_three_quarters < 0 && t >= 0.75 * budget) at_three_quarters = p;
  }
  // 1 250 steps at 40 ms, then 5 000 at 10 ms.
  EXPECT_EQ(step, 6250);
  // The progress at half the budget was planned at 40 ms a step: ~0.5.
  EXPECT_NEAR(at_half_budget, 0.5, 0.02);
  // Not ended early: the stretch after the change still runs on the old plan
  // (0.5 -> 0.7 in 5 s), then the rest is spread over the 45 s left: 0.83 at
  // 75 s (a single plan: 1 from 62.5 s on).
  EXPECT_GT(at_three_quarters, 0.75);
  EXPECT_LT(at_three_quarters, 0.9);
  // It reaches its end within one re-planning stretch (5 % of the budget,
  // 500 steps at the new speed) of the budget's end, not at 62 % of it
  // (where a plan made once at 40 ms a step would have ended).
  EXPECT_GT(last, 0.9);
  EXPECT_LE(last, 1.0);
  EXPECT_GE(plans, 15);
  EXPECT_LE(plans, 21);
}

TEST(ScheduleHorizon, AResumedRunPlansFromItsOwnStep) {
  ScheduleHorizon h(1000, 10.0, /*probe_steps=*/10);
  EXPECT_DOUBLE_EQ(h.progress(400, 0), 0.4) << "before the plan, over the configured length";
  double p = 0;
  for (int64_t s = 400; s <= 410; ++s) p = h.progress(s, 0.01 * (s - 400));
  ASSERT_TRUE(h.replanned());
  // Planned at step 410 after 10 steps of 10 ms: 990 more steps fit, capped
  // at the 1 000 iterations; the progress carries on from 0.41.
  EXPECT_EQ(*h.planned(), 1000);
  EXPECT_DOUBLE_EQ(p, 0.41);
  EXPECT_DOUBLE_EQ(h.progress(1000, 6.0), 1.0);
}

TEST(LearningRateFactor, DecayPointsKeepTheirPlaceInAShorterRun) {
  barycenter::AlgorithmOneConfig c;
  c.iterations = 24000;
  c.lr_decay_every = 12000;
  c.lr_decay = 0.1;
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 11999, 11999 / 24000.0), 1.0);
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 12000, 12000 / 24000.0), 0.1);
  // A run planned at 2 000 steps decays half-way, at 1 000; a decay point on
  // a step whose progress rounds below it still decays there.
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 999, 999 / 2000.0), 1.0);
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 1000, 1000 / 2000.0), 0.1);
  c.iterations = 3;
  c.lr_decay_every = 1;
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 1, 1 / 3.0), 0.1);
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 2, 2 / 3.0), 0.01);
  // Without a step count (--iterations 0, until the time limit): by steps.
  c.iterations = 0;
  c.lr_decay_every = 100;
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 250, 1.0), 0.01);
}

}  // namespace
}  // namespace wbary::training
