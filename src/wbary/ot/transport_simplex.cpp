#include "wbary/ot/transport_simplex.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "wbary/error.h"

// The pivot (find_join .. update_potential) follows LEMON's NetworkSimplex
// (lemon/network_simplex.h, Boost Software License) step for step, with arcs
// implicit and tree flows stored per node; comments name LEMON's functions.

namespace wbary::ot {
namespace {

constexpr int8_t kUp = 1;     // tree arc u -> parent(u): u is a source
constexpr int8_t kDown = -1;  // tree arc parent(u) -> u: u is a target
constexpr int64_t kInf = std::numeric_limits<int64_t>::max();

std::vector<int32_t> checked_order(const std::vector<int32_t>& order, int32_t size, const char* what) {
  if (order.empty()) {
    std::vector<int32_t> identity(static_cast<size_t>(size));
    std::iota(identity.begin(), identity.end(), 0);
    return identity;
  }
  std::vector<char> seen(static_cast<size_t>(size), 0);
  bool ok = static_cast<int64_t>(order.size()) == size;
  for (size_t k = 0; ok && k < order.size(); ++k) {
    ok = order[k] >= 0 && order[k] < size && !seen[static_cast<size_t>(order[k])];
    if (ok) seen[static_cast<size_t>(order[k])] = 1;
  }
  if (!ok) throw InvalidArgument(std::string("transport simplex: ") + what + " is not a permutation of 0.." + std::to_string(size - 1));
  return order;
}

}  // namespace

TransportSimplex::TransportSimplex(std::vector<int64_t> supply, std::vector<int64_t> demand)
    : supply_(std::move(supply)), demand_(std::move(demand)) {
  if (supply_.empty() || demand_.empty()) throw InvalidArgument("transport simplex: empty measure");
  if (supply_.size() + demand_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw InvalidArgument("transport simplex: too many points");
  }
  n_ = static_cast<int32_t>(supply_.size());
  m_ = static_cast<int32_t>(demand_.size());
  node_num_ = n_ + m_;
  int64_t total_supply = 0, total_demand = 0;
  for (int64_t s : supply_) {
    if (s <= 0) throw InvalidArgument("transport simplex: supplies must be positive integers");
    total_supply += s;
  }
  for (int64_t d : demand_) {
    if (d <= 0) throw InvalidArgument("transport simplex: demands must be positive integers");
    total_demand += d;
  }
  if (total_supply != total_demand) {
    throw InvalidArgument("transport simplex: supplies sum to " + std::to_string(total_supply) + ", demands to " +
                          std::to_string(total_demand));
  }
  const size_t N = static_cast<size_t>(node_num_);
  parent_.resize(N);
  thread_.resize(N);
  rev_thread_.resize(N);
  succ_num_.resize(N);
  last_succ_.resize(N);
  pred_dir_.resize(N);
  pred_.resize(N);
  flow_.resize(N);
  pi_.resize(N);
  // LEMON's block size for block-search pricing: sqrt(#arcs), at least 10.
  block_size_ = std::max<int64_t>(10, static_cast<int64_t>(std::sqrt(static_cast<double>(n_) * m_)));
  north_west_basis();
}

void TransportSimplex::north_west_basis(const std::vector<int32_t>& row_order_in,
                                        const std::vector<int32_t>& col_order_in) {
  const std::vector<int32_t> rows = checked_order(row_order_in, n_, "row order");
  const std::vector<int32_t> cols = checked_order(col_order_in, m_, "column order");
  // The staircase of the north-west corner rule is a spanning tree rooted at
  // the first row. It must be strongly feasible (every zero-flow arc points
  // towards the root), so when a row and a column run out together the
  // degenerate arc joins the next row (an up arc), never the next column.
  std::fill(parent_.begin(), parent_.end(), -1);
  auto attach = [&](int32_t child, int32_t parent, int32_t i, int32_t j, int8_t dir, int64_t flow) {
    parent_[child] = parent;
    pred_[child] = arc_id(i, j);
    pred_dir_[child] = dir;
    flow_[child] = flow;
  };
  size_t r = 0, c = 0;
  int64_t ra = supply_[rows[0]], rb = demand_[cols[0]];
  int64_t f = std::min(ra, rb);
  attach(n_ + cols[0], rows[0], rows[0], cols[0], kDown, f);
  ra -= f;
  rb -= f;
  while (r + 1 < rows.size() || c + 1 < cols.size()) {
    if (ra == 0 && r + 1 < rows.size()) {
      ra = supply_[rows[++r]];
      f = std::min(ra, rb);
      attach(rows[r], n_ + cols[c], rows[r], cols[c], kUp, f);
    } else {
      rb = demand_[cols[++c]];
      f = std::min(ra, rb);  // > 0: supply is left while demand is
      attach(n_ + cols[c], rows[r], rows[r], cols[c], kDown, f);
    }
    ra -= f;
    rb -= f;
  }
  rebuild_thread();
  next_arc_ = 0;
}

void TransportSimplex::rebuild_thread() {
  // Preorder of the tree from its root, by an explicit stack.
  const size_t N = static_cast<size_t>(node_num_);
  std::vector<int32_t> first_child(N, -1), next_sibling(N, -1), order;
  int32_t root = -1;
  for (int32_t u = node_num_ - 1; u >= 0; --u) {
    if (parent_[u] < 0) {
      root = u;
    } else {
      next_sibling[u] = first_child[parent_[u]];
      first_child[parent_[u]] = u;
    }
  }
  order.reserve(N);
  std::vector<int32_t> stack = {root};
  while (!stack.empty()) {
    const int32_t u = stack.back();
    stack.pop_back();
    order.push_back(u);
    for (int32_t c = first_child[u]; c >= 0; c = next_sibling[c]) stack.push_back(c);
  }
  if (order.size() != N) throw std::logic_error("transport simplex: the basis is not a spanning tree");
  std::vector<int32_t> position(N);
  for (size_t k = 0; k < N; ++k) {
    const int32_t u = order[k];
    position[u] = static_cast<int32_t>(k);
    thread_[u] = order[(k + 1) % N];
    rev_thread_[order[(k + 1) % N]] = u;
    succ_num_[u] = 1;
  }
  for (size_t k = N; k-- > 1;) succ_num_[parent_[order[k]]] += succ_num_[order[k]];
  for (size_t k = 0; k < N; ++k) last_succ_[order[k]] = order[k + succ_num_[order[k]] - 1];
}

void TransportSimplex::compute_potentials() {
  // Along the thread (a preorder: parents first), C_ij + pi_i - pi_j = 0 on
  // every tree arc.
  int32_t root = 0;
  while (parent_[root] >= 0) root = parent_[root];
  pi_[root] = 0;
  for (int32_t u = thread_[root]; u != root; u = thread_[u]) {
    pi_[u] = pi_[parent_[u]] - pred_dir_[u] * arc_cost(pred_[u]);
  }
}

bool TransportSimplex::find_entering_arc(double threshold) {
  // LEMON's BlockSearchPivotRule: scan blocks of arcs from where the last
  // search stopped; take the most negative reduced cost of the first block
  // that has one.
  const int64_t total = static_cast<int64_t>(n_) * m_;
  const double* pi_target = pi_.data() + n_;
  double min = -threshold;
  int64_t best = -1, count = block_size_;
  int64_t e = next_arc_;
  int32_t i = static_cast<int32_t>(e / m_), j = static_cast<int32_t>(e % m_);
  for (int64_t scanned = 0; scanned < total;) {
    // One row segment at a time: contiguous costs and target potentials.
    const int32_t j_end = static_cast<int32_t>(std::min<int64_t>(m_, j + count));
    const double* c = cost_ + static_cast<int64_t>(i) * m_;
    const double pi_i = pi_[i];
    // Chunks of 64: a vectorised min first (the reduction clause lets the
    // compiler use SIMD min), the arg-min only in the rare chunk that beats
    // the running minimum. Same sums in both passes, so equality finds it.
    for (int32_t lo = j; lo < j_end; lo += 64) {
      const int32_t hi = std::min(j_end, lo + 64);
      double chunk_min = std::numeric_limits<double>::infinity();
#pragma omp simd reduction(min : chunk_min)
      for (int32_t jj = lo; jj < hi; ++jj) chunk_min = std::min(chunk_min, c[jj] + pi_i - pi_target[jj]);
      if (chunk_min < min) {
        for (int32_t jj = lo; jj < hi; ++jj) {
          const double rc = c[jj] + pi_i - pi_target[jj];
          if (rc < min) {
            min = rc;
            best = static_cast<int64_t>(i) * m_ + jj;
          }
        }
      }
    }
    const int32_t done = j_end - j;
    scanned += done;
    count -= done;
    e += done;
    j = j_end;
    if (j == m_) {
      j = 0;
      if (++i == n_) {
        i = 0;
        e = 0;
      }
    }
    if (count == 0) {
      if (best >= 0) break;
      count = block_size_;
    }
  }
  if (best < 0) return false;
  in_arc_ = best;
  next_arc_ = e;
  return true;
}

void TransportSimplex::find_join() {  // LEMON's findJoinNode
  int32_t u = arc_source(in_arc_), v = arc_target(in_arc_);
  while (u != v) {
    if (succ_num_[u] < succ_num_[v]) u = parent_[u];
    else v = parent_[v];
  }
  join_ = u;
}

void TransportSimplex::find_leaving_arc() {  // LEMON's findLeavingArc, all capacities infinite
  // The cycle runs along the entering arc from `first` to `second`; tree arcs
  // that it traverses backwards lose flow and can block. Ties go to the last
  // blocking arc met from `second`, which keeps the tree strongly feasible.
  const int32_t first = arc_source(in_arc_), second = arc_target(in_arc_);
  delta_ = kInf;
  int result = 0;
  for (int32_t u = first; u != join_; u = parent_[u]) {
    const int64_t d = pred_dir_[u] == kUp ? flow_[u] : kInf;
    if (d < delta_) {
      delta_ = d;
      u_out_ = u;
      result = 1;
    }
  }
  for (int32_t u = second; u != join_; u = parent_[u]) {
    const int64_t d = pred_dir_[u] == kDown ? flow_[u] : kInf;
    if (d <= delta_) {
      delta_ = d;
      u_out_ = u;
      result = 2;
    }
  }
  if (result == 0 || delta_ == kInf) throw std::logic_error("transport simplex: unbounded cycle");
  if (result == 1) {
    u_in_ = first;
    v_in_ = second;
  } else {
    u_in_ = second;
    v_in_ = first;
  }
}

void TransportSimplex::change_flow() {  // LEMON's changeFlow
  if (delta_ == 0) return;
  for (int32_t u = arc_source(in_arc_); u != join_; u = parent_[u]) flow_[u] -= pred_dir_[u] * delta_;
  for (int32_t u = arc_target(in_arc_); u != join_; u = parent_[u]) flow_[u] += pred_dir_[u] * delta_;
}

void TransportSimplex::update_tree_structure() {  // LEMON's updateTreeStructure
  const int32_t old_rev_thread = rev_thread_[u_out_];
  const int32_t old_succ_num = succ_num_[u_out_];
  const int32_t old_last_succ = last_succ_[u_out_];
  const int32_t v_out = parent_[u_out_];
  const int8_t in_dir = u_in_ == arc_source(in_arc_) ? kUp : kDown;

  if (u_in_ == u_out_) {
    parent_[u_in_] = v_in_;
    pred_[u_in_] = in_arc_;
    pred_dir_[u_in_] = in_dir;
    flow_[u_in_] = delta_;
    if (thread_[v_in_] != u_out_) {
      int32_t after = thread_[old_last_succ];
      thread_[old_rev_thread] = after;
      rev_thread_[after] = old_rev_thread;
      after = thread_[v_in_];
      thread_[v_in_] = u_out_;
      rev_thread_[u_out_] = v_in_;
      thread_[old_last_succ] = after;
      rev_thread_[after] = old_last_succ;
    }
  } else {
    // When old_rev_thread is v_in, join and v_out coincide.
    const int32_t thread_continue = old_rev_thread == v_in_ ? thread_[old_last_succ] : thread_[v_in_];
    // Reverse the stem u_in .. u_out: re-parent and re-thread its nodes.
    int32_t stem = u_in_, par_stem = v_in_, next_stem;
    int32_t last = last_succ_[u_in_];
    int32_t before, after = thread_[last];
    thread_[v_in_] = u_in_;
    dirty_revs_.clear();
    dirty_revs_.push_back(v_in_);
    while (stem != u_out_) {
      next_stem = parent_[stem];
      thread_[last] = next_stem;
      dirty_revs_.push_back(last);
      before = rev_thread_[stem];
      thread_[before] = after;
      rev_thread_[after] = before;
      parent_[stem] = par_stem;
      par_stem = stem;
      stem = next_stem;
      last = last_succ_[stem] == last_succ_[par_stem] ? rev_thread_[par_stem] : last_succ_[stem];
      after = thread_[last];
    }
    parent_[u_out_] = par_stem;
    thread_[last] = thread_continue;
    rev_thread_[thread_continue] = last;
    last_succ_[u_out_] = last;
    if (old_rev_thread != v_in_) {
      thread_[old_rev_thread] = after;
      rev_thread_[after] = old_rev_thread;
    }
    for (int32_t u : dirty_revs_) rev_thread_[thread_[u]] = u;
    // The stem's tree arcs shift one node down, flows with them.
    int32_t tmp_sc = 0;
    const int32_t tmp_ls = last_succ_[u_out_];
    for (int32_t u = u_out_, p = parent_[u]; u != u_in_; u = p, p = parent_[u]) {
      pred_[u] = pred_[p];
      flow_[u] = flow_[p];
      pred_dir_[u] = static_cast<int8_t>(-pred_dir_[p]);
      tmp_sc += succ_num_[u] - succ_num_[p];
      succ_num_[u] = tmp_sc;
      last_succ_[p] = tmp_ls;
    }
    pred_[u_in_] = in_arc_;
    pred_dir_[u_in_] = in_dir;
    flow_[u_in_] = delta_;
    succ_num_[u_in_] = old_succ_num;
  }

  const int32_t up_limit_out = last_succ_[join_] == v_in_ ? join_ : -1;
  const int32_t last_succ_out = last_succ_[u_out_];
  for (int32_t u = v_in_; u != -1 && last_succ_[u] == v_in_; u = parent_[u]) last_succ_[u] = last_succ_out;
  if (join_ != old_rev_thread && v_in_ != old_rev_thread) {
    for (int32_t u = v_out; u != up_limit_out && last_succ_[u] == old_last_succ; u = parent_[u]) {
      last_succ_[u] = old_rev_thread;
    }
  } else if (last_succ_out != old_last_succ) {
    for (int32_t u = v_out; u != up_limit_out && last_succ_[u] == old_last_succ; u = parent_[u]) {
      last_succ_[u] = last_succ_out;
    }
  }
  for (int32_t u = v_in_; u != join_; u = parent_[u]) succ_num_[u] += old_succ_num;
  for (int32_t u = v_out; u != join_; u = parent_[u]) succ_num_[u] -= old_succ_num;
}

void TransportSimplex::update_potential() {  // LEMON's updatePotential
  const double sigma = pi_[v_in_] - pi_[u_in_] - pred_dir_[u_in_] * arc_cost(in_arc_);
  const int32_t end = thread_[last_succ_[u_in_]];
  for (int32_t u = u_in_; u != end; u = thread_[u]) pi_[u] += sigma;
}

int64_t TransportSimplex::solve(const double* cost, double tolerance) {
  cost_ = cost;
  const int64_t total = static_cast<int64_t>(n_) * m_;
  double max_abs = 0;
  for (int64_t e = 0; e < total; ++e) {
    if (!std::isfinite(cost[e])) throw InvalidArgument("transport simplex: cost has NaN/Inf");
    max_abs = std::max(max_abs, std::abs(cost[e]));
  }
  // Reduced costs of tree arcs are 0 up to round-off in the potentials; only
  // clearly negative ones may enter.
  const double threshold = tolerance * std::max(max_abs, std::numeric_limits<double>::min());
  compute_potentials();
  int64_t pivots = 0, since_refresh = 0;
  bool refreshed = true;
  while (find_entering_arc(threshold)) {
    const int32_t s = arc_source(in_arc_), t = arc_target(in_arc_);
    if (parent_[s] == t || parent_[t] == s) {
      // A tree arc priced negative: the potentials have drifted. Recompute
      // them once; if that does not clear it, the tolerance is below the
      // round-off of this problem and the basis is optimal to round-off.
      if (refreshed) break;
      compute_potentials();
      refreshed = true;
      continue;
    }
    refreshed = false;
    find_join();
    find_leaving_arc();
    change_flow();
    update_tree_structure();
    update_potential();
    ++pivots;
    // Incremental updates accumulate round-off: refresh every n + m pivots
    // (O(n + m), so O(1) a pivot).
    if (++since_refresh == node_num_) {
      compute_potentials();
      since_refresh = 0;
    }
  }
  compute_potentials();
  return pivots;
}

std::vector<TransportSimplex::Arc> TransportSimplex::basic_arcs() const {
  std::vector<Arc> arcs;
  arcs.reserve(static_cast<size_t>(node_num_ - 1));
  for (int32_t u = 0; u < node_num_; ++u) {
    if (parent_[u] < 0) continue;
    arcs.push_back({static_cast<int32_t>(pred_[u] / m_), static_cast<int32_t>(pred_[u] % m_), flow_[u]});
  }
  return arcs;
}

void TransportSimplex::potentials(std::vector<double>& u, std::vector<double>& v) const {
  // C_ij + pi_i - pi_j >= 0 (LEMON's sign) is C_ij - u_i - v_j >= 0.
  u.resize(static_cast<size_t>(n_));
  v.resize(static_cast<size_t>(m_));
  for (int32_t i = 0; i < n_; ++i) u[i] = -pi_[i];
  for (int32_t j = 0; j < m_; ++j) v[j] = pi_[n_ + j];
}

}  // namespace wbary::ot
