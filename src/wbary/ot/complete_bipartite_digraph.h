// File: wbary/ot/complete_bipartite_digraph.h
//
// A LEMON digraph for transport problems: n source nodes, m target nodes and
// every arc source -> target, with no storage at all (arc i*m + j joins
// source i to target n + j). Modelled on LEMON's FullDigraph (full_graph.h),
// it conforms to the Digraph concept through LEMON's DigraphExtender, so
// NetworkSimplex runs on it unchanged. The explicit SmartDigraph it replaces
// spent more time building and paging in its n*m arcs than the simplex spent
// pivoting (BENCHMARKS.md, exact W2). POT's copy of this network simplex
// uses the same idea.
#pragma once

#include <lemon/bits/graph_extender.h>
#include <lemon/core.h>

namespace wbary::ot {

class CompleteBipartiteDigraphBase {
 public:
  typedef CompleteBipartiteDigraphBase Digraph;
  class Node;
  class Arc;

 protected:
  int n_ = 0, m_ = 0, node_num_ = 0, arc_num_ = 0;
  CompleteBipartiteDigraphBase() {}
  void construct(int n, int m) {
    n_ = n;
    m_ = m;
    node_num_ = n + m;
    arc_num_ = n * m;
  }

 public:
  typedef lemon::True NodeNumTag;
  typedef lemon::True ArcNumTag;

  int nodeNum() const { return node_num_; }
  int arcNum() const { return arc_num_; }
  int maxNodeId() const { return node_num_ - 1; }
  int maxArcId() const { return arc_num_ - 1; }

  Node source(Arc arc) const { return Node(arc._id / m_); }
  Node target(Arc arc) const { return Node(n_ + arc._id % m_); }

  static int id(Node node) { return node._id; }
  static int id(Arc arc) { return arc._id; }
  static Node nodeFromId(int id) { return Node(id); }
  static Arc arcFromId(int id) { return Arc(id); }

  typedef lemon::True FindArcTag;
  Arc findArc(Node s, Node t, Arc prev = lemon::INVALID) const {
    if (prev != lemon::INVALID || s._id >= n_ || t._id < n_) return lemon::INVALID;
    return Arc(s._id * m_ + (t._id - n_));
  }

  class Node {
    friend class CompleteBipartiteDigraphBase;

   protected:
    int _id;
    Node(int id) : _id(id) {}

   public:
    Node() {}
    Node(lemon::Invalid) : _id(-1) {}
    bool operator==(const Node node) const { return _id == node._id; }
    bool operator!=(const Node node) const { return _id != node._id; }
    bool operator<(const Node node) const { return _id < node._id; }
  };

  class Arc {
    friend class CompleteBipartiteDigraphBase;

   protected:
    int _id;  // m * source + (target - n)
    Arc(int id) : _id(id) {}

   public:
    Arc() {}
    Arc(lemon::Invalid) : _id(-1) {}
    bool operator==(const Arc arc) const { return _id == arc._id; }
    bool operator!=(const Arc arc) const { return _id != arc._id; }
    bool operator<(const Arc arc) const { return _id < arc._id; }
  };

  void first(Node& node) const { node._id = node_num_ - 1; }
  static void next(Node& node) { --node._id; }
  void first(Arc& arc) const { arc._id = arc_num_ - 1; }
  static void next(Arc& arc) { --arc._id; }

  // Out-arcs of source i: i*m + m-1 down to i*m; targets have none.
  void firstOut(Arc& arc, const Node& node) const { arc._id = node._id < n_ ? (node._id + 1) * m_ - 1 : -1; }
  void nextOut(Arc& arc) const { arc._id = arc._id % m_ == 0 ? -1 : arc._id - 1; }

  // In-arcs of target n + j: (n-1)*m + j down to j; sources have none.
  void firstIn(Arc& arc, const Node& node) const { arc._id = node._id >= n_ ? (n_ - 1) * m_ + (node._id - n_) : -1; }
  void nextIn(Arc& arc) const {
    arc._id -= m_;
    if (arc._id < 0) arc._id = -1;
  }
};

class CompleteBipartiteDigraph : public lemon::DigraphExtender<CompleteBipartiteDigraphBase> {
 public:
  CompleteBipartiteDigraph(int n, int m) { construct(n, m); }
  Node source_node(int i) const { return nodeFromId(i); }
  Node target_node(int j) const { return nodeFromId(n_ + j); }
};

}  // namespace wbary::ot
