// File: wbary/distributed/row_exchange.h
//
// Moving stacked networks between ranks. A stack holds K networks with
// parameters of shape [K, ...] (nn/icnn.h); in a marginal-parallel run each
// rank holds the rows of the marginals it owns, and the full stack (every
// marginal, in order) exists only when it is assembled for a checkpoint or
// the final model.
//
// assemble_rows: each rank writes its rows into a zeroed full-size buffer and
// one all-reduce sums the buffers. Every row has exactly one owner, so the
// sum adds zeros to one value: the result equals the owner's row bit for bit.
// distribute_rows: the reverse, from rank `root`'s full tensors.
//
// Example:
//   // local.f has the rows `owned` of full.f's stack
//   distributed::assemble_rows(group, {{local_views, full_views}}, owned);
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wbary/distributed/process_group.h"

namespace wbary::distributed {

/// Tensors of one stack: local[k] holds rows `owned` of full[k] (same
/// trailing shape; local[k].size(0) == owned.size()).
struct StackRows {
  std::vector<at::Tensor> local;  ///< this rank's rows
  std::vector<at::Tensor> full;  ///< every marginal's rows, after assemble_rows
};

/// full[k][owned[j]] <- local[k][j] on every rank, for the owners' rows of
/// every rank (one all-reduce for all the stacks). `owned` is this rank's.
void assemble_rows(ProcessGroup& group, const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned);

/// local[k][j] <- root's full[k][owned[j]] (one broadcast of the full tensors).
void distribute_rows(ProcessGroup& group, const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned,
                     int root = 0);

/// local[k][j] <- full[k][owned[j]] on this rank alone (no communication).
void select_rows(const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned);

/// Tensors that every rank must hold identically (the replicated
/// generator): each t <- root's t (one broadcast per dtype).
void broadcast_all(ProcessGroup& group, const std::vector<at::Tensor>& tensors, int root = 0);

/// Rank `root`'s files, readable on every rank: the root's own paths there,
/// copies in a fresh temporary folder elsewhere (removed with this object).
/// How a checkpoint written on rank 0's machine reaches ranks that share no
/// file system with it.
class FilesFromRoot {
 public:
  /// Collective. Throws IoError on every rank when the root cannot read a
  /// file (the root's message names it).
  FilesFromRoot(ProcessGroup& group, const std::vector<std::string>& paths, int root = 0);
  ~FilesFromRoot();
  FilesFromRoot(const FilesFromRoot&) = delete;
  FilesFromRoot& operator=(const FilesFromRoot&) = delete;
  /// Where file k of the constructor's list can be read on this rank.
  const std::string& path(size_t k) const { return paths_.at(k); }

 private:
  std::vector<std::string> paths_;
  std::string folder_;  ///< empty on the root
};

}  // namespace wbary::distributed
