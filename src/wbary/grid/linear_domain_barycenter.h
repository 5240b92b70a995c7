// File: wbary/grid/linear_domain_barycenter.h
//
// The convolutional Bregman iterations of ot::log_bregman_barycenter on 2-D
// images, run in the linear domain (POT's convolutional_barycenter2d,
// method="sinkhorn", with its non-uniform-weight bug fixed: the iterates are
// those of the log domain) and with every matrix product cut to the inputs'
// supports. Per input k, with R_k / C_k the rows / columns where a_k has mass:
//   u_k = a_k / K v_k          only on R_k x C_k (u_k is 0 elsewhere),
//   K^T u_k = K1[:, R] u_k[R, C] K2[:, C]^T      (the zero rows and columns of
//                                                 u_k contribute exactly 0),
//   (K v_k)[R, C] = K1[R, :] v_k K2[C, :]^T      (u_k needs K v_k only there),
//   bar = prod_k (K^T u_k)^w_k,  v_k = bar / K^T u_k.
// On silhouettes (a disc and a box taking 40 % / 36 % of each axis) the
// products cost 3.5 n^3 per iteration instead of the full grid's 16 n^3, and
// no exp / log runs inside them (the log domain spends as long on its
// elementwise passes as on its products).
//
// The linear domain is exact only while nothing underflows: after every
// product the iteration checks that the terms lost to underflow (each below
// DBL_MIN, at most 2 n1 n2 of them per entry, times the largest input entry)
// weigh < 1e-15 of the smallest entry it needs, and that everything is
// finite. When a check fails it stops and hands back the last good scalings,
// and the caller goes on in the log domain from there (small eps, blurs of a
// few pixels on large grids: far-away mass then underflows in exp).
//
// Zeros are zeros here (as POT's linear method); the log domain adds POT's
// stabThr = 1e-30 to every pixel before its log. The two barycenters differ
// by ~1e-12 of their peak (tests/grid/convolutional_barycenter_test.cpp).
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "wbary/ot/bregman_barycenter.h"

namespace wbary::grid {

/// What the linear-domain iterations did, and whether they had to hand over to the log domain.
struct LinearDomainOutcome {
  /// As log_bregman_barycenter's, over the iterations that ran: after an
  /// underflow, barycenter is undefined and log_scalings are those of the
  /// last complete iteration (the log domain's starting point).
  ot::BregmanResult result;
  bool underflowed = false;  ///< true: continue in the log domain from result.log_scalings
};

/// densities: [count, n1, n2] float64, each summing to 1; weights sum to 1;
/// k1 / k2: the symmetric Gibbs kernels of the two axes ([n1, n1], [n2, n2]).
/// Iterations, error (every 10th iteration, at iteration % 10 == check_phase)
/// and stopping rule are log_bregman_barycenter's without projection.
/// initial_log_scalings: log v_k to start from (default 0).
LinearDomainOutcome linear_domain_barycenter(const at::Tensor& densities, const std::vector<double>& weights,
                                             const at::Tensor& k1, const at::Tensor& k2, ot::BregmanConfig config,
                                             int check_phase, const at::Tensor& initial_log_scalings = {});

}  // namespace wbary::grid
