#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/training/schedule_horizon.h"

namespace wbary::training {
namespace {

TEST(ScheduleHorizon, WithoutABudgetItIsTheIterations) {
  ScheduleHorizon h(500, 0);
  for (int64_t s = 0; s < 50; ++s) EXPECT_EQ(h.at(s), 500);
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
    const int64_t horizon = h.at(step);
    if (h.planned()) break;
    EXPECT_EQ(horizon, 100000) << "before the plan, the configured length";
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
    ++step;
  }
  // Planned at the start of step 20, after 20 timed steps (5 % of the budget
  // is 25 of them), or earlier on a machine so loaded that 5 % passes first.
  EXPECT_LE(step, 20);
  EXPECT_GE(step, 2);
  EXPECT_LE(*h.planned(), 501);
  EXPECT_GE(*h.planned(), 200);
  EXPECT_EQ(h.at(step + 10), *h.planned()) << "kept once made";
}

TEST(ScheduleHorizon, NeverLongerThanTheIterations) {
  ScheduleHorizon h(30, 100.0, /*probe_steps=*/2);
  for (int64_t s = 0; s < 4; ++s) h.at(s);
  ASSERT_TRUE(h.planned().has_value());
  EXPECT_EQ(*h.planned(), 30);
}

TEST(LearningRateFactor, DecayPointsKeepTheirPlaceInAShorterRun) {
  barycenter::AlgorithmOneConfig c;
  c.iterations = 24000;
  c.lr_decay_every = 12000;
  c.lr_decay = 0.1;
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 11999, 24000), 1.0);
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 12000, 24000), 0.1);
  // A run planned at 2 000 steps decays half-way, at 1 000.
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 999, 2000), 1.0);
  EXPECT_DOUBLE_EQ(barycenter::learning_rate_factor(c, 1000, 2000), 0.1);
}

}  // namespace
}  // namespace wbary::training
