// Conjugate solvers against potentials whose conjugate is known: a quadratic
// (closed form) and log-sum-exp + |x|^2/2 (Newton's method in float64 as the
// independent reference).
#include "wbary/maps/conjugate_solver.h"
#include "wbary/maps/lbfgs_two_loop.h"
#include "wbary/maps/potential.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>

#include "wbary/data/sampler.h"
#include "wbary/error.h"

namespace wbary::maps {
namespace {

const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);

// f(x) = x^T A x / 2 + b.x with A SPD: x_hat(y) = A^{-1}(y - b).
class QuadraticPotential : public MapPotential {
 public:
  QuadraticPotential(at::Tensor A, at::Tensor b) : MapPotential(A.size(0)), A_(A), b_(b) {}
  at::Tensor value(const at::Tensor& x) const override {
    return 0.5 * (at::mm(x, A_) * x).sum(1) + at::mv(x, b_);
  }
  bool convex() const override { return true; }
  at::Tensor A_, b_;
};

// f(x) = log sum_i exp(x_i) + |x|^2/2: strongly convex, conjugate without closed form.
class LogSumExpPotential : public MapPotential {
 public:
  explicit LogSumExpPotential(int64_t d) : MapPotential(d) {}
  at::Tensor value(const at::Tensor& x) const override { return at::logsumexp(x, 1) + 0.5 * (x * x).sum(1); }
  bool convex() const override { return true; }
};

// Newton's method on grad f(x) = softmax(x) + x = y, Hessian diag(s) - s s^T + I.
at::Tensor newton_reference(const at::Tensor& y) {
  at::Tensor x = y.clone();
  for (int it = 0; it < 50; ++it) {
    const at::Tensor s = at::softmax(x, 1);
    const at::Tensor g = s + x - y;
    const at::Tensor H = at::diag_embed(s) - s.unsqueeze(2) * s.unsqueeze(1) +
                         at::eye(y.size(1), kF64).unsqueeze(0);
    x = x - at::linalg_solve(H, g.unsqueeze(2)).squeeze(2);
  }
  return x;
}

at::Tensor inf_norm_of_gradient(const MapPotential& f, const at::Tensor& x, const at::Tensor& y) {
  return (f.gradient(x) - y).abs().amax(1);
}

struct Fixture {
  at::Generator gen = data::make_generator(7);
};

TEST(ConjugateSolver, LbfgsFindsTheQuadraticConjugateExactly) {
  Fixture fx;
  const int64_t d = 6, B = 64;
  const at::Tensor M = at::randn({d, d}, fx.gen, kF64);
  const at::Tensor A = at::mm(M, M.t()) + 0.5 * at::eye(d, kF64);  // condition ~ 50
  const at::Tensor b = at::randn({d}, fx.gen, kF64);
  QuadraticPotential f(A, b);
  const at::Tensor y = at::randn({B, d}, fx.gen, kF64) * 3;
  ConjugateSolverConfig c;
  c.gradient_tolerance = 1e-10;
  c.max_iterations = 200;
  const ConjugateSolution sol = solve_conjugate(f, y, at::zeros_like(y), c);
  const at::Tensor exact = at::linalg_solve(A, (y - b).t()).t();
  EXPECT_TRUE(sol.converged.all().item<bool>());
  // gtol 1e-10 on the gradient and smallest eigenvalue >= 0.5: |x - x*| <= 2e-10.
  EXPECT_LT((sol.x - exact).abs().max().item<double>(), 1e-9);
  const at::Tensor conj = 0.5 * (at::mm(y - b, at::inverse(A)) * (y - b)).sum(1);  // f*(y)
  EXPECT_LT((-sol.objective - conj).abs().max().item<double>(), 1e-9 * std::max(1.0, conj.abs().max().item<double>()));
  // L-BFGS on a d = 6 quadratic needs about d iterations, not hundreds.
  EXPECT_LE(sol.iterations, 40);
}

TEST(ConjugateSolver, LbfgsAndAdamMatchNewtonOnLogSumExp) {
  Fixture fx;
  const int64_t d = 5, B = 100;
  LogSumExpPotential f(d);
  const at::Tensor y = at::randn({B, d}, fx.gen, kF64) * 2;
  const at::Tensor ref = newton_reference(y);
  ConjugateSolverConfig c;
  c.gradient_tolerance = 1e-10;
  c.max_iterations = 300;
  const ConjugateSolution lbfgs = solve_conjugate(f, y, at::zeros_like(y), c);
  EXPECT_TRUE(lbfgs.converged.all().item<bool>());
  // Strong convexity 1: |x - x*| <= |grad| <= 1e-10 (plus round-off).
  EXPECT_LT((lbfgs.x - ref).abs().max().item<double>(), 1e-9);

  c.kind = ConjugateSolverKind::kAdam;
  c.gradient_tolerance = 1e-4;
  c.max_iterations = 2000;
  c.adam_lr = 0.05;
  const ConjugateSolution adam = solve_conjugate(f, y, at::zeros_like(y), c);
  // Adam with a decaying rate gets close but not to machine precision: 1e-3 is
  // what 2000 cosine-decayed steps reach here (measured max error ~1e-5).
  EXPECT_LT((adam.x - ref).abs().max().item<double>(), 1e-3);
}

TEST(ConjugateSolver, FineTuningNeverEndsWorseThanItsWarmStart) {
  Fixture fx;
  const int64_t d = 4, B = 256;
  LogSumExpPotential f(d);
  const at::Tensor y = at::randn({B, d}, fx.gen, kF64) * 2;
  // A warm start that is already good for some rows and bad for others.
  const at::Tensor x0 = newton_reference(y) + at::randn({B, d}, fx.gen, kF64) * at::rand({B, 1}, fx.gen, kF64);
  const at::Tensor J0 = f.value(x0) - (x0 * y).sum(1);
  for (auto kind : {ConjugateSolverKind::kLbfgs, ConjugateSolverKind::kAdam}) {
    ConjugateSolverConfig c;
    c.kind = kind;
    c.max_iterations = 5;  // few iterations: the monotonicity must hold at any budget
    const ConjugateSolution sol = solve_conjugate(f, y, x0, c);
    // 1e-10: a step inside J's round-off (1e3 eps |J|) may be taken when it shrinks the gradient.
    EXPECT_TRUE((sol.objective <= J0 + 1e-10).all().item<bool>()) << to_string(kind);
    EXPECT_LT(sol.objective.mean().item<double>(), J0.mean().item<double>()) << to_string(kind);
  }
  ConjugateSolverConfig none;
  none.kind = ConjugateSolverKind::kNone;
  const ConjugateSolution same = solve_conjugate(f, y, x0, none);
  EXPECT_TRUE(at::equal(same.x, x0));
}

TEST(ConjugateSolver, AWarmStartWithinTheToleranceStillTakesMinIterations) {
  // Amos's L-BFGS checks convergence after an iteration, never before: a warm
  // start already within gtol is refined once (min_iterations = 1), and
  // returned as it is with min_iterations = 0.
  Fixture fx;
  const int64_t d = 4, B = 128;
  LogSumExpPotential f(d);
  const at::Tensor y = at::randn({B, d}, fx.gen, kF64) * 2;
  const at::Tensor exact = newton_reference(y);
  const at::Tensor x0 = exact + (at::rand({B, d}, fx.gen, kF64) - 0.5) * 0.02;
  const at::Tensor e0 = (x0 - exact).norm(2, {1});
  // grad J(x0) = H (x0 - x*) with |H| <= 3/2 and |x0 - x*|_2 <= 0.02: |grad J|_inf <= 0.03 < gtol 0.1.
  ConjugateSolverConfig c;
  ASSERT_TRUE((inf_norm_of_gradient(f, x0, y) < c.gradient_tolerance).all().item<bool>());
  c.min_iterations = 0;
  const ConjugateSolution kept = solve_conjugate(f, y, x0, c);
  EXPECT_EQ(kept.iterations, 0);
  EXPECT_TRUE(at::equal(kept.x, x0));
  c.min_iterations = 1;
  const ConjugateSolution refined = solve_conjugate(f, y, x0, c);
  EXPECT_EQ(refined.iterations, 1);
  // The first L-BFGS step is x - grad J(x); J's Hessian is I + (diag(s) - s s^T)
  // with the bracket in [0, 1/2], so the error contracts by at least 1/2, up
  // to the third-order term (|e| <= 0.014 here, so 0.55 bounds it).
  EXPECT_TRUE(((refined.x - exact).norm(2, {1}) <= 0.55 * e0).all().item<bool>());
  c.kind = ConjugateSolverKind::kAdam;
  EXPECT_EQ(solve_conjugate(f, y, x0, c).iterations, 1);
  c.min_iterations = 0;
  EXPECT_EQ(solve_conjugate(f, y, x0, c).iterations, 0);
  c.min_iterations = -1;
  EXPECT_THROW(solve_conjugate(f, y, x0, c), InvalidArgument);
}

TEST(ConjugateSolver, RejectsMismatchedShapesAndBadSettings) {
  LogSumExpPotential f(3);
  const at::Tensor y = at::zeros({4, 3}, kF64);
  EXPECT_THROW(solve_conjugate(f, y, at::zeros({4, 2}, kF64), {}), InvalidArgument);
  EXPECT_THROW(solve_conjugate(f, at::zeros({4, 2}, kF64), at::zeros({4, 2}, kF64), {}), InvalidArgument);
  ConjugateSolverConfig c;
  c.history = 0;
  EXPECT_THROW(solve_conjugate(f, y, y, c), InvalidArgument);
  EXPECT_THROW(parse_conjugate_solver("bfgs"), InvalidArgument);
}

TEST(ConjugateSolver, RowLoopsFollowTheTensorForm) {
  // L-BFGS with its per-row bookkeeping in loops (the CPU's) and in tensor
  // operations (other devices'), on an MLP potential's conjugates from a
  // poor warm start (so that line-search retries, rejected pairs and
  // restarts occur), float64: the same iterations and points up to the
  // round-off of dot products summed in another order.
  Fixture fx;
  const int64_t d = 5, B = 300;
  MlpPotential f(d, {32, 32, 16}, fx.gen, at::kDouble);
  {
    torch::NoGradGuard ng;
    for (auto& p : f.parameters()) p.add_(0.5 * at::randn(p.sizes(), fx.gen, at::kDouble));
  }
  const at::Tensor y = at::randn({B, d}, fx.gen, kF64) * 2;
  const at::Tensor x0 = at::randn({B, d}, fx.gen, kF64) * 3;
  ConjugateSolverConfig c;
  c.gradient_tolerance = 1e-6;
  c.max_iterations = 60;
  const ConjugateSolution rows = solve_conjugate(f, y, x0, c);
  const ConjugateSolution tensors = solve_conjugate(f, y, x0, c, /*tensor_form=*/true);
  EXPECT_EQ(rows.iterations, tensors.iterations);
  EXPECT_TRUE(at::equal(rows.converged, tensors.converged));
  EXPECT_TRUE(at::allclose(rows.x, tensors.x, 1e-8, 1e-8)) << (rows.x - tensors.x).abs().max().item<double>();
  EXPECT_TRUE(at::allclose(rows.objective, tensors.objective, 1e-10, 1e-10));
}

TEST(LbfgsTwoLoop, RowLoopEqualsTheTensorForm) {
  // Random pairs with some slots rejected (rho = 0), a subset of active rows
  // in shuffled order, before the history fills (iteration 3 < m) and after
  // it wraps (iteration 13 > m = 5); float64 to round-off, float32 to 1e-5.
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    at::Generator gen = data::make_generator(17);
    const int64_t m = 5, B = 40, d = 7;
    const auto opt = at::TensorOptions().dtype(dtype);
    const at::Tensor S = at::randn({m, B, d}, gen, at::kDouble).to(dtype);
    const at::Tensor Y = S + 0.3 * at::randn({m, B, d}, gen, at::kDouble).to(dtype);
    at::Tensor rho = 1.0 / (S * Y).sum(2);
    rho = at::where(rho > 0, rho, at::zeros_like(rho));
    rho.select(0, 2).narrow(0, 0, 10).zero_();
    const at::Tensor idx = at::randperm(B, gen, at::TensorOptions().dtype(at::kLong)).narrow(0, 0, 25).contiguous();
    const at::Tensor g = at::randn({25, d}, gen, at::kDouble).to(dtype);
    for (int64_t it : {0, 3, 13}) {
      const at::Tensor fast = lbfgs_two_loop(g, S, Y, rho, idx, it, m);
      const at::Tensor ref = lbfgs_two_loop_tensor(g, S, Y, rho, idx, it, m);
      const double tol = dtype == at::kDouble ? 1e-12 : 1e-5;
      EXPECT_TRUE(at::allclose(fast, ref, tol, tol)) << "iteration " << it << ": " << (fast - ref).abs().max().item<double>();
      if (it == 0) EXPECT_TRUE(at::equal(fast, g));  // no pairs: steepest descent
    }
    (void)opt;
  }
}

}  // namespace
}  // namespace wbary::maps
