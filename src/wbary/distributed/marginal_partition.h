// File: wbary/distributed/marginal_partition.h
//
// Which process trains which marginal in a marginal-parallel barycenter
// (DESIGN.md §4): marginal i is owned by exactly one rank, which alone reads
// its data and trains its potentials f_i, g_i. By default rank r owns the
// marginals i with i mod WORLD_SIZE = r, so that one command line (the same
// --marginal list on every rank) serves the whole cluster; an explicit owner
// per marginal is the scriptable alternative for uneven machines.
//
// The other ranks see an owned-elsewhere marginal as a RemoteMarginal: a
// Sampler that knows its dimension and where it lives, and refuses to be
// sampled, so that a bug that would read another machine's data fails loudly
// instead of silently opening a file.
//
// Example:
//   auto part = distributed::MarginalPartition::round_robin(/*count=*/5, /*world_size=*/2, /*rank=*/1);
//   part.owned();            // {1, 3}
//   part.owner(4);           // 0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wbary/data/sampler.h"

namespace wbary::distributed {

/// Which rank owns which marginal in marginal-parallel NWB (round robin or explicit owners).
class MarginalPartition {
 public:
  /// Marginal i owned by rank i mod world_size. Throws InvalidArgument when
  /// a rank would own nothing (world_size > count).
  static MarginalPartition round_robin(int64_t count, int world_size, int rank);
  /// Marginal i owned by rank owners[i] (e.g. parsed from "--owners 0,0,1").
  /// Throws InvalidArgument naming the entry when an owner is out of range,
  /// the list has the wrong length, or a rank owns nothing.
  static MarginalPartition explicit_owners(const std::vector<int>& owners, int world_size, int rank);

  /// This process's rank, 0 to world_size - 1.
  int rank() const { return rank_; }
  /// Number of processes in the run.
  int world_size() const { return world_size_; }
  /// Number N of marginals.
  int64_t count() const { return static_cast<int64_t>(owner_.size()); }
  /// The rank that owns marginal i.
  int owner(int64_t i) const { return owner_.at(static_cast<size_t>(i)); }
  /// Whether this rank owns marginal i.
  bool owns(int64_t i) const { return owner(i) == rank_; }
  /// The marginals this rank trains, increasing (0-based).
  const std::vector<int64_t>& owned() const { return owned_; }
  /// "rank 0: 1, 3; rank 1: 2" (1-based marginals, as the CLI numbers them).
  std::string describe() const;

 private:
  MarginalPartition(std::vector<int> owner, int world_size, int rank);
  std::vector<int> owner_;
  int world_size_;
  int rank_;
  std::vector<int64_t> owned_;
};

/// A marginal whose data lives on another rank.
class RemoteMarginal : public data::Sampler {
 public:
  /// Stands for marginal `spec` of dimension dim, owned by rank `owner`.
  RemoteMarginal(int64_t dim, int owner, std::string spec) : dim_(dim), owner_(owner), spec_(std::move(spec)) {}
  int64_t dim() const override { return dim_; }
  /// Throws Error: this rank must never draw another rank's data.
  at::Tensor sample(int64_t n, at::Generator& gen) const override;
  at::Tensor batch(uint64_t seed, uint64_t stream, int64_t step, int64_t n) const override;
  std::string describe() const override;

 private:
  int64_t dim_;
  int owner_;
  std::string spec_;
};

}  // namespace wbary::distributed
