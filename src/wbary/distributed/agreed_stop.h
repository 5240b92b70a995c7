// File: wbary/distributed/agreed_stop.h
//
// Stopping a multi-process training run at the same step on every rank. The
// time limit and Ctrl-C are local events (a rank's own clock, a signal sent
// to one process), but a rank that left the loop alone would leave the others
// waiting in their next all-reduce. AgreedStop asks its local callbacks every
// step and all-reduces their answers (max over ranks of two flags: one
// 8-byte collective per step), so that a stop anywhere stops everyone after
// the same step, and the checkpoint that follows is collective too.
//
// Example:
//   training::TimeLimit limit(60);
//   training::CancelOnSignal ctrl_c;
//   distributed::AgreedStop stop(group, {&limit}, {&ctrl_c});
//   solver.train({&progress, &stop, &checkpointer});
//   if (stop.interrupted()) ...   // some rank received SIGINT / SIGTERM
#pragma once

#include <vector>

#include "wbary/distributed/process_group.h"
#include "wbary/training/training.h"

namespace wbary::distributed {

/// A training callback that stops every rank at the same step (time limit, Ctrl-C on any rank).
class AgreedStop : public training::TrainingCallback {
 public:
  /// `limits` stop the run quietly (time limits); `interrupts` stop it as
  /// interrupted (signals). Neither list is owned.
  AgreedStop(ProcessGroup& group, std::vector<training::TrainingCallback*> limits,
             std::vector<training::TrainingCallback*> interrupts);
  bool on_step(const training::StepInfo& info) override;
  /// Whether an interrupt on any rank stopped the run.
  bool interrupted() const { return interrupted_; }

 private:
  ProcessGroup& group_;
  std::vector<training::TrainingCallback*> limits_;
  std::vector<training::TrainingCallback*> interrupts_;
  bool interrupted_ = false;
};

}  // namespace wbary::distributed
