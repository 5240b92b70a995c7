// File: wbary/maps/conjugate_solver.h
//
// Numerical convex conjugates, batched: for each row y_b of y,
//
//   x_hat(y_b) = argmin_x  J_b(x) = f(x) - <x, y_b>,     f*(y_b) = -J_b(x_hat)
//
// (Amos 2023, eq. 3 and §3 "fine-tuning"). The rows are independent
// problems, so every solver keeps per-row state, per-row step sizes and a
// per-row convergence mask, and only the rows still running are evaluated.
//   - L-BFGS (history m = 10) with Amos's parallel Armijo line search: the
//     step sizes 1.5^-k, k = 0..K-1, are tried at once in one batched
//     evaluation and the largest that satisfies Armijo (c1 = 1e-4) is taken;
//   - Adam with a cosine-decayed learning rate (0.1 -> 0.1 * 1e-4);
//   - none: return the warm start (amortisation alone).
// Each row stops when |grad J_b|_inf <= gradient_tolerance, tested after
// min_iterations iterations (Amos's loop tests after each iteration, so
// every row takes at least one). Every solver
// returns, per row, the best point it visited, so fine-tuning never ends
// worse than its warm start.
//
// Example:
//   maps::ConjugateSolverConfig cfg;              // L-BFGS, gtol 0.1, 100 iterations
//   auto sol = maps::solve_conjugate(*f, y, amortizer->forward(y).detach(), cfg);
//   at::Tensor conj = -sol.objective;             // f*(y)
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "wbary/maps/potential.h"

namespace wbary::maps {

enum class ConjugateSolverKind { kNone, kLbfgs, kAdam };
ConjugateSolverKind parse_conjugate_solver(const std::string& name);  ///< none | lbfgs | adam
std::string to_string(ConjugateSolverKind kind);

/// The batched conjugate solve (L-BFGS or Adam): iterations, tolerance, line search.
struct ConjugateSolverConfig {
  ConjugateSolverKind kind = ConjugateSolverKind::kLbfgs;  ///< L-BFGS (the paper's) or Adam
  /// Amos's `lbfgs` config: 100 iterations, gtol 0.1 on the inf-norm of the
  /// gradient (training); `lbfgs_high_precision` uses 1e-3 (inference).
  int64_t max_iterations = 100;
  double gradient_tolerance = 0.1;  ///< a row stops when its gradient norm falls below
  /// Iterations every row takes before the tolerance is checked. Amos's
  /// L-BFGS (w2ot/external/jax_lbfgs.py) tests convergence only after an
  /// iteration, so a warm start already within gtol still takes one step;
  /// with a good amortization that step is most of the fine-tuning at small d.
  int64_t min_iterations = 1;
  int64_t history = 10;            ///< L-BFGS memory (maxcor)
  int64_t line_search_steps = 10;  ///< step sizes 1.5^-k, k < this
  double armijo = 1e-4;            ///< sufficient-decrease constant c1
  double adam_lr = 0.1;            ///< Adam's initial rate, cosine-decayed to 1e-4 of it
};

/// The convex conjugate's argmax per point, its value and whether the solve converged.
struct ConjugateSolution {
  at::Tensor x;          ///< [B, d] argmin estimates (the best point visited per row)
  at::Tensor objective;  ///< [B] J_b(x) = f(x) - <x, y_b>; the conjugate is its negative
  at::Tensor converged;  ///< [B] bool, |grad J_b|_inf <= tolerance at x
  int64_t iterations = 0;  ///< iterations of the slowest row
};

/// Solves the B conjugate problems from the warm start x0 [B, d]. No
/// autograd graph is kept (the result is a stop-gradient, as in the dual loss).
/// On the CPU, L-BFGS's per-row bookkeeping (two-loop recursion, step
/// selection, pair updates) runs as one loop per row; tensor_form = true
/// runs it as tensor operations, as on other devices (the reference).
ConjugateSolution solve_conjugate(const MapPotential& f, const at::Tensor& y, const at::Tensor& x0,
                                  const ConjugateSolverConfig& config, bool tensor_form = false);

}  // namespace wbary::maps
