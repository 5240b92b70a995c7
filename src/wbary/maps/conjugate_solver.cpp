#include "wbary/maps/conjugate_solver.h"

#include <torch/autograd.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <vector>

#include "wbary/error.h"
#include "wbary/maps/lbfgs_two_loop.h"

namespace wbary::maps {
namespace {

// J(x) = f(x) - <x, y> row by row, without a graph.
at::Tensor objective(const MapPotential& f, const at::Tensor& x, const at::Tensor& y) {
  torch::NoGradGuard no_grad;
  return f.value(x) - (x * y).sum(1);
}

// J(x) and its gradient grad f(x) - y together (one pass for the MLP).
void objective_and_gradient(const MapPotential& f, const at::Tensor& x, const at::Tensor& y, at::Tensor& J,
                            at::Tensor& g) {
  at::Tensor v, gf;
  f.value_and_gradient(x, v, gf);
  torch::NoGradGuard no_grad;
  J = v - (x * y).sum(1);
  g = gf - y;
}

at::Tensor inf_norm(const at::Tensor& g) { return g.abs().amax(1); }

// The rows iteration `it` still has to work on: all of them for the first
// min_iterations iterations, then those above the tolerance.
at::Tensor above_tolerance(const at::Tensor& g, const ConjugateSolverConfig& c, int64_t it) {
  if (it < c.min_iterations) return at::ones({g.size(0)}, g.options().dtype(at::kBool));
  return inf_norm(g) > c.gradient_tolerance;
}

void validate(const MapPotential& f, const at::Tensor& y, const at::Tensor& x0, const ConjugateSolverConfig& c) {
  if (y.dim() != 2 || y.size(1) != f.dim() || !x0.sizes().equals(y.sizes())) {
    throw InvalidArgument("conjugate solver: y and the warm start must both be [B, " + std::to_string(f.dim()) +
                          "], got y " + std::to_string(y.dim()) + "-D and x0 " + std::to_string(x0.dim()) + "-D");
  }
  if (c.max_iterations < 0 || c.min_iterations < 0 || c.history < 1 || c.line_search_steps < 1 ||
      !(c.gradient_tolerance >= 0) || !(c.adam_lr > 0)) {
    throw InvalidArgument("conjugate solver: need max_iterations >= 0, min_iterations >= 0, history >= 1, "
                          "line_search_steps >= 1, gradient_tolerance >= 0 and adam_lr > 0");
  }
}

// The CPU row loops below replace ~50 small tensor operations per L-BFGS
// iteration (at a W2-map training step's 1024 rows and 10-20 iterations,
// their dispatch cost more than the network evaluations). Each computes
// what the tensor code after it computes, row by row; other devices and
// dtypes take the tensor code.
bool rows_on_cpu(std::initializer_list<const at::Tensor*> tensors, at::ScalarType dtype) {
  for (const at::Tensor* t : tensors) {
    if (!t->device().is_cpu() || !t->is_contiguous()) return false;
  }
  return dtype == at::kFloat || dtype == at::kDouble;
}

// The rows L-BFGS works on in iteration `it`, as indices: above the
// tolerance (every row before min_iterations) and not stalled. On the CPU
// one loop over the rows: abs().amax(1) over rows of d numbers, the
// comparisons and nonzero() cost ~8 % of a solve of 17 iterations at d = 16.
at::Tensor active_rows(const at::Tensor& g, const at::Tensor& stalled, const ConjugateSolverConfig& c, int64_t it,
                       bool tensor_form) {
  if (tensor_form || !rows_on_cpu({&g, &stalled}, g.scalar_type())) {
    return above_tolerance(g, c, it).logical_and_(stalled.logical_not()).nonzero().squeeze(1);
  }
  const int64_t B = g.size(0), d = g.size(1);
  at::Tensor idx = at::empty({B}, g.options().dtype(at::kLong));
  int64_t* ip = idx.data_ptr<int64_t>();
  const bool* st = stalled.data_ptr<bool>();
  int64_t A = 0;
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "active_rows", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const bool all = it < c.min_iterations;
    for (int64_t b = 0; b < B; ++b) {
      if (st[b]) continue;
      scalar_t norm = 0;
      bool nan = false;
      for (int64_t k = 0; k < d; ++k) {
        norm = std::max(norm, std::abs(gp[b * d + k]));
        nan = nan || std::isnan(gp[b * d + k]);
      }
      // As the tensor form: a NaN norm compares false and the row is left.
      if (all || (!nan && norm > c.gradient_tolerance)) ip[A++] = b;
    }
  });
  return idx.slice(0, 0, A);
}

// Amos's parallel line search, selected row by row from the trial values
// Jt [K, A] (+inf where not evaluated): the first (largest) step t_k that
// satisfies Armijo, else the best trial if it still decreases J. Fills
// step, J_new, moved, flat ([A]); returns whether any row is flat (no
// Armijo step, |J(x + p) - J(x)| within round-off of J).
bool select_steps_rows(const at::Tensor& Jt, const at::Tensor& Ja, const at::Tensor& slope, const at::Tensor& t,
                       double armijo, double eps, at::Tensor& step, at::Tensor& J_new, at::Tensor& moved,
                       at::Tensor& flat) {
  const int64_t K = Jt.size(0), A = Jt.size(1);
  step = at::empty({A}, Ja.options());
  J_new = at::empty({A}, Ja.options());
  moved = at::empty({A}, Ja.options().dtype(at::kBool));
  flat = at::empty({A}, Ja.options().dtype(at::kBool));
  bool any_flat = false;
  AT_DISPATCH_FLOATING_TYPES(Ja.scalar_type(), "select_steps_rows", [&] {
    const scalar_t* jt = Jt.data_ptr<scalar_t>();
    const scalar_t* ja = Ja.data_ptr<scalar_t>();
    const scalar_t* sl = slope.data_ptr<scalar_t>();
    const scalar_t* tk = t.data_ptr<scalar_t>();
    scalar_t* st = step.data_ptr<scalar_t>();
    scalar_t* jn = J_new.data_ptr<scalar_t>();
    bool* mv = moved.data_ptr<bool>();
    bool* fl = flat.data_ptr<bool>();
    const scalar_t c1 = static_cast<scalar_t>(armijo);
    for (int64_t a = 0; a < A; ++a) {
      int64_t first_ok = -1, best = 0;
      for (int64_t k = 0; k < K; ++k) {
        const scalar_t v = jt[k * A + a];
        if (first_ok < 0 && v <= ja[a] + (c1 * tk[k]) * sl[a]) first_ok = k;
        if (v < jt[best * A + a]) best = k;
      }
      const int64_t pick = first_ok >= 0 ? first_ok : best;
      const scalar_t j_pick = jt[pick * A + a];
      fl[a] = first_ok < 0 && std::abs(jt[a] - ja[a]) <= static_cast<scalar_t>(1e3 * eps) * std::max<scalar_t>(std::abs(ja[a]), 1);
      any_flat = any_flat || fl[a];
      st[a] = (first_ok >= 0 || j_pick < ja[a]) ? tk[pick] : scalar_t(0);
      jn[a] = st[a] > 0 ? j_pick : ja[a];
      mv[a] = st[a] > 0;
    }
  });
  return any_flat;
}

// The end of an iteration for the active rows idx: the pair (s, y) =
// (x_new - x, g_new - g) kept in `slot` under the curvature condition
// s.y > 1e-10 |s| |y| (else an empty slot), x, g, J written back, and a row
// that could not move restarted from steepest descent (its history dropped)
// or, if it had none, stalled. had_history reads rho before this update.
void record_iteration_rows(at::Tensor& x, at::Tensor& g, at::Tensor& J, at::Tensor& S, at::Tensor& Yh,
                           at::Tensor& rho, at::Tensor& stalled, const at::Tensor& idx, const at::Tensor& xa,
                           const at::Tensor& ga, const at::Tensor& Ja, const at::Tensor& x_new,
                           const at::Tensor& g_new, const at::Tensor& J_new, const at::Tensor& moved, int64_t slot) {
  const int64_t A = idx.size(0), d = x.size(1), B = x.size(0), m = S.size(0);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "record_iteration_rows", [&] {
    scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* jp = J.data_ptr<scalar_t>();
    scalar_t* sp = S.data_ptr<scalar_t>();
    scalar_t* yp = Yh.data_ptr<scalar_t>();
    scalar_t* rp = rho.data_ptr<scalar_t>();
    bool* stp = stalled.data_ptr<bool>();
    const int64_t* ip = idx.data_ptr<int64_t>();
    const scalar_t* xa_p = xa.data_ptr<scalar_t>();
    const scalar_t* ga_p = ga.data_ptr<scalar_t>();
    const scalar_t* ja_p = Ja.data_ptr<scalar_t>();
    const scalar_t* xn_p = x_new.data_ptr<scalar_t>();
    const scalar_t* gn_p = g_new.data_ptr<scalar_t>();
    const scalar_t* jn_p = J_new.data_ptr<scalar_t>();
    const bool* mv = moved.data_ptr<bool>();
    at::parallel_for(0, A, 256, [&](int64_t begin, int64_t end) {
      for (int64_t a = begin; a < end; ++a) {
        const int64_t b = ip[a];
        bool had_history = false;
        for (int64_t j = 0; j < m; ++j) had_history = had_history || rp[j * B + b] != 0;
        scalar_t sy = 0, ss = 0, yy = 0;
        for (int64_t k = 0; k < d; ++k) {
          const scalar_t sk = xn_p[a * d + k] - xa_p[a * d + k], yk = gn_p[a * d + k] - ga_p[a * d + k];
          sy += sk * yk;
          ss += sk * sk;
          yy += yk * yk;
        }
        const bool keep = sy > scalar_t(1e-10) * std::sqrt(ss) * std::sqrt(yy);
        scalar_t* s_slot = sp + (slot * B + b) * d;
        scalar_t* y_slot = yp + (slot * B + b) * d;
        for (int64_t k = 0; k < d; ++k) {
          s_slot[k] = keep ? xn_p[a * d + k] - xa_p[a * d + k] : scalar_t(0);
          y_slot[k] = keep ? gn_p[a * d + k] - ga_p[a * d + k] : scalar_t(0);
          xp[b * d + k] = xn_p[a * d + k];
          gp[b * d + k] = gn_p[a * d + k];
        }
        rp[slot * B + b] = keep ? scalar_t(1) / sy : scalar_t(0);
        jp[b] = mv[a] ? jn_p[a] : ja_p[a];
        if (!mv[a] && had_history) {
          for (int64_t j = 0; j < m; ++j) rp[j * B + b] = 0;
        }
        stp[b] = !mv[a] && !had_history;
      }
    });
  });
}

ConjugateSolution solve_lbfgs(const MapPotential& f, const at::Tensor& y, at::Tensor x,
                              const ConjugateSolverConfig& c, bool tensor_form) {
  const int64_t B = y.size(0), d = y.size(1), m = c.history, K = c.line_search_steps;
  const auto opt = y.options();
  at::Tensor J, g;
  objective_and_gradient(f, x, y, J, g);
  at::Tensor S = at::zeros({m, B, d}, opt), Yh = at::zeros({m, B, d}, opt), rho = at::zeros({m, B}, opt);
  at::Tensor stalled = at::zeros({B}, opt.dtype(at::kBool));
  // Step sizes 1.5^-k, largest first (Amos's parallel line search).
  std::vector<double> steps(K);
  for (int64_t k = 0; k < K; ++k) steps[k] = std::pow(1.5, -static_cast<double>(k));
  const at::Tensor t = at::tensor(steps, opt.dtype(at::kDouble)).to(opt.dtype());
  ConjugateSolution out;
  for (int64_t it = 0; it < c.max_iterations; ++it) {
    const at::Tensor idx = active_rows(g, stalled, c, it, tensor_form);
    const int64_t A = idx.size(0);
    if (A == 0) break;
    out.iterations = it + 1;
    const at::Tensor xa = x.index_select(0, idx), ga = g.index_select(0, idx), ya = y.index_select(0, idx);
    const at::Tensor Ja = J.index_select(0, idx);
    at::Tensor r = tensor_form ? lbfgs_two_loop_tensor(ga, S, Yh, rho, idx, it, m)
                               : lbfgs_two_loop(ga, S, Yh, rho, idx, it, m);
    at::Tensor p = -r;
    at::Tensor slope = (p * ga).sum(1);
    const at::Tensor ascent = slope >= 0;  // numerical trouble: fall back to steepest descent
    p = at::where(ascent.unsqueeze(1), -ga, p);
    slope = at::where(ascent, -(ga * ga).sum(1), slope);
    // The unit step first; the other K - 1 trial points, in one batched
    // evaluation, only for the rows where it fails Armijo. The selection is
    // that of Amos's all-at-once search (the first step that passes), but
    // a CPU pays for trial points, and the unit step usually passes.
    // (Backtracking one step size at a time, same iterates, was 10-20 %
    // slower a step on mixtures at d = 8 / 16: half the rows that miss the
    // unit step miss the next one too, and each round is a network pass.)
    at::Tensor Jt = at::full({K, A}, std::numeric_limits<double>::infinity(), opt);
    // The unit step's gradient comes with its value: the rows that take the
    // step (most) need no second pass for it.
    const at::Tensor x_unit = xa + p;
    at::Tensor J_unit, g_unit;
    objective_and_gradient(f, x_unit, ya, J_unit, g_unit);
    Jt[0] = J_unit;
    const at::Tensor retry = (Jt[0] > Ja + c.armijo * slope).nonzero().squeeze(1);
    const int64_t R = retry.size(0);
    if (R > 0 && K > 1) {
      const at::Tensor tr = t.slice(0, 1).view({K - 1, 1, 1});
      const at::Tensor trial = xa.index_select(0, retry).unsqueeze(0) + tr * p.index_select(0, retry).unsqueeze(0);
      const at::Tensor Jr = objective(f, trial.reshape({(K - 1) * R, d}), ya.index_select(0, retry).repeat({K - 1, 1}));
      Jt.slice(0, 1).index_copy_(1, retry, Jr.view({K - 1, R}));
    }
    const double eps = y.scalar_type() == at::kDouble ? std::numeric_limits<double>::epsilon()
                                                      : std::numeric_limits<float>::epsilon();
    at::Tensor step, J_new, moved, flat;
    bool any_flat;
    const bool rows = !tensor_form && rows_on_cpu({&x, &g, &J, &S, &Yh, &rho, &stalled, &idx}, x.scalar_type());
    if (rows) {
      any_flat = select_steps_rows(Jt, Ja, slope, t, c.armijo, eps, step, J_new, moved, flat);
    } else {
      const at::Tensor ok = Jt <= Ja.unsqueeze(0) + c.armijo * t.view({K, 1}) * slope.unsqueeze(0);
      // First (largest) step satisfying Armijo; else the best trial if it still decreases J.
      const at::Tensor any_ok = ok.any(0);
      const at::Tensor first_ok = ok.to(at::kByte).argmax(0);
      const at::Tensor best = Jt.argmin(0);
      const at::Tensor pick = at::where(any_ok, first_ok, best);
      const at::Tensor J_pick = Jt.gather(0, pick.unsqueeze(0)).squeeze(0);
      flat = any_ok.logical_not().logical_and(
          (Jt[0] - Ja).abs() <= 1e3 * eps * Ja.abs().clamp_min(1.0));
      step = at::where(any_ok.logical_or(J_pick < Ja), t.index_select(0, pick), at::zeros_like(J_pick));
      J_new = at::where(step > 0, J_pick, Ja);
      moved = step > 0;
      any_flat = flat.any().item<bool>();
    }
    // Near the optimum J changes by less than its round-off (|g|^2 ~ eps |J|)
    // and no step can pass Armijo. There the step is chosen from gradients
    // alone: the secant minimiser of t -> J(x + t p) from the directional
    // derivatives at t = 0 and t = 1 (exact on a quadratic), kept if it
    // shrinks the gradient or satisfies Wolfe's curvature condition
    // |p.grad J(x2)| <= |p.grad J(x)| / 2 (J's decrease along p, certified by
    // gradients: on an ill-conditioned quadratic the exact line minimiser
    // can grow |grad J|), so that tight tolerances stay reachable.
    if (any_flat) {
      const at::Tensor curvature = ((g_unit - ga) * p).sum(1);
      const at::Tensor secant = at::where(curvature > 0, -slope / curvature.clamp_min(1e-300), at::ones_like(slope));
      const at::Tensor x2 = xa + secant.unsqueeze(1) * p;
      const at::Tensor g2 = f.gradient(x2) - ya;
      const at::Tensor shrinks = g2.norm(2, {1}) < ga.norm(2, {1});
      const at::Tensor flattens = (g2 * p).sum(1).abs() <= 0.5 * slope.abs();
      const at::Tensor take = flat.logical_and(shrinks.logical_or(flattens));
      step = at::where(take, secant, step);
      J_new = at::where(take, objective(f, x2, ya), J_new);
      moved = moved.logical_or(take);
    }
    const at::Tensor x_new = xa + step.unsqueeze(1) * p;
    // x_new is x_unit (step 1) or xa (step 0) to the bit there, whose
    // gradients are known; only the other rows need a pass.
    at::Tensor g_new = at::where((step == 1).unsqueeze(1), g_unit, ga);
    const at::Tensor fresh = step.ne(1).logical_and(step.ne(0)).nonzero().squeeze(1);
    if (fresh.size(0) > 0) {
      g_new.index_copy_(0, fresh, f.gradient(x_new.index_select(0, fresh)) - ya.index_select(0, fresh));
    }
    const int64_t slot = it % m;
    if (rows) {
      record_iteration_rows(x, g, J, S, Yh, rho, stalled, idx, xa, ga, Ja, x_new.contiguous(), g_new.contiguous(),
                            J_new.contiguous(), moved.contiguous(), slot);
      continue;
    }
    const at::Tensor moved_ok = moved;
    const at::Tensor ra = rho.index_select(1, idx);  // before this iteration's update
    const at::Tensor s = x_new - xa, yv = g_new - ga;
    const at::Tensor sy = (s * yv).sum(1);
    // Keep the pair only under the curvature condition s.y > 0 (else skip it).
    const at::Tensor keep = sy > 1e-10 * (s * s).sum(1).sqrt() * (yv * yv).sum(1).sqrt();
    S[slot].index_copy_(0, idx, at::where(keep.unsqueeze(1), s, at::zeros_like(s)));
    Yh[slot].index_copy_(0, idx, at::where(keep.unsqueeze(1), yv, at::zeros_like(yv)));
    rho[slot].index_copy_(0, idx, at::where(keep, 1.0 / sy, at::zeros_like(sy)));
    x.index_copy_(0, idx, x_new);
    g.index_copy_(0, idx, g_new);
    J.index_copy_(0, idx, at::where(moved_ok, J_new, Ja));
    // A row that could not move restarts from steepest descent (history
    // dropped) and stalls only if that fails too.
    const at::Tensor had_history = (ra != 0).any(0);
    const at::Tensor restart = moved_ok.logical_not().logical_and(had_history);
    if (restart.any().item<bool>()) {
      const at::Tensor keep_rows = restart.logical_not().to(rho.scalar_type());
      rho.index_copy_(1, idx, rho.index_select(1, idx) * keep_rows.unsqueeze(0));
    }
    stalled.index_copy_(0, idx, moved_ok.logical_not().logical_and(had_history.logical_not()));
  }
  out.x = x;
  out.objective = J;
  out.converged = inf_norm(g) <= c.gradient_tolerance;
  return out;
}

ConjugateSolution solve_adam(const MapPotential& f, const at::Tensor& y, at::Tensor x, const ConjugateSolverConfig& c) {
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  at::Tensor m1 = at::zeros_like(x), m2 = at::zeros_like(x);
  at::Tensor best_x = x.clone(), best_J, g;
  objective_and_gradient(f, x, y, best_J, g);
  at::Tensor best_g = g.clone();
  ConjugateSolution out;
  const int64_t T = c.max_iterations;
  for (int64_t it = 0; it < T; ++it) {
    const at::Tensor running = above_tolerance(best_g, c, it).unsqueeze(1);
    if (!running.any().item<bool>()) break;
    out.iterations = it + 1;
    const double lr = c.adam_lr * ((1 - 1e-4) * 0.5 * (1 + std::cos(M_PI * it / std::max<int64_t>(T, 1))) + 1e-4);
    m1.mul_(beta1).add_(g, 1 - beta1);
    m2.mul_(beta2).addcmul_(g, g, 1 - beta2);
    const double bc1 = 1 - std::pow(beta1, it + 1), bc2 = 1 - std::pow(beta2, it + 1);
    const at::Tensor update = (m1 / bc1) / ((m2 / bc2).sqrt() + eps);
    x = at::where(running, x - lr * update, x);
    at::Tensor J;
    objective_and_gradient(f, x, y, J, g);
    const at::Tensor better = J < best_J;
    best_J = at::where(better, J, best_J);
    best_x = at::where(better.unsqueeze(1), x, best_x);
    best_g = at::where(better.unsqueeze(1), g, best_g);
  }
  out.x = best_x;
  out.objective = best_J;
  out.converged = inf_norm(best_g) <= c.gradient_tolerance;
  return out;
}

}  // namespace

ConjugateSolverKind parse_conjugate_solver(const std::string& name) {
  if (name == "none") return ConjugateSolverKind::kNone;
  if (name == "lbfgs") return ConjugateSolverKind::kLbfgs;
  if (name == "adam") return ConjugateSolverKind::kAdam;
  throw InvalidArgument("conjugate solver: expected none, lbfgs or adam, got '" + name + "'");
}

std::string to_string(ConjugateSolverKind kind) {
  switch (kind) {
    case ConjugateSolverKind::kNone: return "none";
    case ConjugateSolverKind::kLbfgs: return "lbfgs";
    case ConjugateSolverKind::kAdam: return "adam";
  }
  return "?";
}

ConjugateSolution solve_conjugate(const MapPotential& f, const at::Tensor& y, const at::Tensor& x0,
                                  const ConjugateSolverConfig& config, bool tensor_form) {
  validate(f, y, x0, config);
  const at::Tensor yd = y.detach();
  at::Tensor x = x0.detach().to(y.scalar_type()).clone();
  switch (config.kind) {
    case ConjugateSolverKind::kLbfgs: return solve_lbfgs(f, yd, x, config, tensor_form);
    case ConjugateSolverKind::kAdam: return solve_adam(f, yd, x, config);
    case ConjugateSolverKind::kNone: break;
  }
  ConjugateSolution out;
  at::Tensor g;
  out.x = x;
  objective_and_gradient(f, x, yd, out.objective, g);
  out.converged = inf_norm(g) <= config.gradient_tolerance;
  return out;
}

}  // namespace wbary::maps
