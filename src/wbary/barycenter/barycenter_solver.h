// File: wbary/barycenter/barycenter_solver.h
//
// The contract every continuous barycenter solver (NWB, CWB, CRWB) keeps, so
// that `wbary fit`, Python and the paper's experiments drive them alike:
// train with callbacks (progress, time limit, Ctrl-C, checkpoints), stop and
// resume bit-for-bit from a checkpoint, and hand out the model trained so far.
//
// Example:
//   auto solver = barycenter::find_method("cwb").make_solver(problem, config_json);
//   solver->train({&progress, &limit});
//   solver->result().save("out/");
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wbary/barycenter/barycenter_model.h"
#include "wbary/barycenter/problem.h"
#include "wbary/training/training.h"

namespace wbary::barycenter {

/// A continuous barycenter method (NWB, CWB, CRWB, NWB-II): fit a problem into a model.
class BarycenterSolver {
 public:
  virtual ~BarycenterSolver() = default;

  /// Runs steps until the configured number or until a callback returns
  /// true; may be called again to continue. DivergenceError names the step
  /// and the loss at the first non-finite loss.
  virtual training::TrainingSummary train(const std::vector<training::TrainingCallback*>& callbacks) = 0;
  /// Outer iterations completed so far (a resumed run counts from its checkpoint).
  virtual int64_t steps_done() const = 0;
  /// The problem being solved.
  virtual const BarycenterProblem& problem() const = 0;
  /// The model that comes out now (averaged where the config asks for it).
  virtual BarycenterModel& result() = 0;
  /// Moves result() out (the solver is spent afterwards): for callers that
  /// keep the model beyond the solver, e.g. Python's wbary.fit.
  virtual std::unique_ptr<BarycenterModel> take_result() = 0;
  /// The training record (losses every log_every steps; evaluations the
  /// caller appends), carried into every result() and checkpoint.
  virtual nlohmann::json& history() = 0;
  /// Writes the whole training state to PATH and PATH.json atomically.
  virtual void save_checkpoint(const std::string& path) const = 0;
  /// Restores a checkpoint of the same problem and config (io/checkpoint.h).
  virtual void load_checkpoint(const std::string& path) = 0;
  /// One line for the CLI's banner: the networks and the schedule.
  virtual std::string describe() const = 0;
};

}  // namespace wbary::barycenter
