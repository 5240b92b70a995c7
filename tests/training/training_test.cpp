// The training loop's progress line (training/training.h): the time left is
// the schedule's or the time limit's, whichever ends first.
#include <gtest/gtest.h>

#include <sstream>

#include "wbary/training/training.h"

namespace wbary::training {
namespace {

// Step `step` of `total` at 10 steps per second, `elapsed` seconds in.
StepInfo at(int64_t step, int64_t total, double elapsed) {
  StepInfo info;
  info.step = step;
  info.total_steps = total;
  info.steps_per_second = 10;
  info.elapsed_seconds = elapsed;
  info.seconds_left = static_cast<double>(total - step) / 10;
  info.losses = {{"loss", 1.5}};
  return info;
}

TEST(ProgressPrinter, TimeLeftIsTheSchedulesWithoutALimit) {
  std::ostringstream out;
  ProgressPrinter progress(out, 100);
  progress.on_step(at(1, 1000000, 0.1));
  EXPECT_EQ(out.str(), "");  // only every 100 steps
  progress.on_step(at(100, 1000000, 10));
  EXPECT_NE(out.str().find("step 100/1000000  loss 1.5"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("left 27h46m\n"), std::string::npos) << out.str();  // 999 900 steps at 10/s
}

TEST(ProgressPrinter, TimeLeftIsTheLimitsWhenItEndsFirst) {
  std::ostringstream out;
  ProgressPrinter progress(out, 100, /*time_limit=*/60);
  // A resumed run: 500 s were spent before; this process started at 500 s.
  progress.on_step(at(5001, 1000000, 500.1));
  progress.on_step(at(5100, 1000000, 510));
  EXPECT_NE(out.str().find("left 50.0s (time limit)\n"), std::string::npos) << out.str();
  // A schedule that ends before the limit keeps its own estimate.
  std::ostringstream short_out;
  ProgressPrinter short_run(short_out, 100, /*time_limit=*/600);
  short_run.on_step(at(1, 200, 0.1));
  short_run.on_step(at(100, 200, 10));
  EXPECT_NE(short_out.str().find("left 10.0s\n"), std::string::npos) << short_out.str();
}

}  // namespace
}  // namespace wbary::training
