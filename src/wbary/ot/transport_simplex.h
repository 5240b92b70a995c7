// File: wbary/ot/transport_simplex.h
//
// The network simplex method specialised to the transportation problem
//   min <P, C>  s.t.  P 1 = a,  P^T 1 = b,  P >= 0
// on the complete bipartite graph, with integer supplies a, b (equal sums).
// The pivoting is LEMON's (NetworkSimplex: block-search pricing, the spanning
// tree kept as parent / thread / successor lists, Cunningham's strongly feasible
// trees against cycling); what is specialised is why it is here:
//
// - No per-arc storage. An arc is (i, j), its cost read from the dense matrix;
//   a non-tree arc of an uncapacitated problem always has zero flow, so the
//   only flows stored are the n + m - 1 tree arcs' (one per node). LEMON keeps
//   25 bytes for each of the n*m arcs, which costs more than its pivots on
//   dense problems (BENCHMARKS.md, exact W2).
// - A good first basis instead of LEMON's artificial one: the north-west corner
//   rule along an order of the points (exact_w2 sorts both clouds along their
//   principal axis, which is the optimal plan in 1-D and a close one for
//   elongated clouds).
// - Warm starts. The last optimal tree stays feasible when only the costs
//   change (same supplies), so the next solve starts from it: the free-support
//   barycenter moves its support a little at every iteration and re-solves in a
//   fraction of the pivots.
//
// Example:
//   TransportSimplex s(supply, demand);     // int64 masses, all > 0
//   s.north_west_basis(row_order, col_order);
//   s.solve(cost);                          // row-major n x m
//   s.solve(new_cost);                      // warm start from the last basis
//   for (const auto& arc : s.basic_arcs()) ...   // the plan: flows of the tree arcs
#pragma once

#include <cstdint>
#include <vector>

namespace wbary::ot {

/// The network simplex on a complete bipartite transport problem, warm-startable.
class TransportSimplex {
 public:
  /// One arc of the transport network: its ends, cost and flow.
  struct Arc {
    int32_t i;  ///< source
    int32_t j;  ///< target
    int64_t flow;  ///< integer mass, >= 0 (degenerate tree arcs carry 0)
  };

  /// supply [n], demand [m]: positive integers with equal sums (checked).
  TransportSimplex(std::vector<int64_t> supply, std::vector<int64_t> demand);

  /// Resets the basis to the north-west corner rule along the given orders
  /// (a permutation of 0..n-1 and of 0..m-1; empty = identity). The
  /// constructor does this with identity orders.
  void north_west_basis(const std::vector<int32_t>& row_order = {}, const std::vector<int32_t>& col_order = {});

  /// Pivots from the current basis to an optimal one for cost (row-major
  /// n x m, finite), which must outlive the call only. Returns the number of
  /// pivots. Reduced costs above -tolerance * max|C| count as non-negative.
  int64_t solve(const double* cost, double tolerance = 1e-13);

  /// The spanning tree's n + m - 1 arcs with their flows (the optimal plan
  /// after solve(); zero-flow arcs included).
  std::vector<Arc> basic_arcs() const;
  /// Dual potentials after solve(): C_ij - u_i - v_j >= 0 on every arc, = 0 on
  /// the tree.
  void potentials(std::vector<double>& u, std::vector<double>& v) const;

  /// Number of sources.
  int64_t rows() const { return n_; }
  /// Number of targets.
  int64_t cols() const { return m_; }

 private:
  /// Nodes: sources 0..n-1, targets n..n+m-1; node 0 is the root.
  int64_t arc_id(int32_t i, int32_t j) const { return static_cast<int64_t>(i) * m_ + j; }
  double arc_cost(int64_t arc) const { return cost_[arc]; }
  int32_t arc_source(int64_t arc) const { return static_cast<int32_t>(arc / m_); }
  int32_t arc_target(int64_t arc) const { return static_cast<int32_t>(n_ + arc % m_); }
  void rebuild_thread();  ///< thread, rev_thread, succ_num, last_succ from parent
  void compute_potentials();
  bool find_entering_arc(double threshold);
  void find_join();
  void find_leaving_arc();
  void change_flow();
  void update_tree_structure();
  void update_potential();

  int32_t n_, m_, node_num_;
  std::vector<int64_t> supply_, demand_;
  const double* cost_ = nullptr;

  /// Spanning tree: for node u != root, pred_[u] is the arc joining u to
  /// parent_[u], pred_dir_[u] = +1 if that arc points up (u -> parent, u a
  /// source), -1 if down, and flow_[u] its flow. thread_ is a preorder (circular),
  /// succ_num_ the subtree sizes, last_succ_ the last node of each subtree in it.
  std::vector<int32_t> parent_, thread_, rev_thread_, succ_num_, last_succ_, dirty_revs_;
  std::vector<int8_t> pred_dir_;
  std::vector<int64_t> pred_, flow_;
  std::vector<double> pi_;

  /// The current pivot.
  int64_t in_arc_ = 0, next_arc_ = 0, block_size_ = 0;
  int32_t join_ = 0, u_in_ = 0, v_in_ = 0, u_out_ = 0;
  int64_t delta_ = 0;
};

}  // namespace wbary::ot
