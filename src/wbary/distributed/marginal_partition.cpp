#include "wbary/distributed/marginal_partition.h"

#include <sstream>

#include "wbary/error.h"

namespace wbary::distributed {

MarginalPartition::MarginalPartition(std::vector<int> owner, int world_size, int rank)
    : owner_(std::move(owner)), world_size_(world_size), rank_(rank) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw InvalidArgument("rank " + std::to_string(rank) + " of world size " + std::to_string(world_size) +
                          ": expected 0 <= rank < world size");
  }
  std::vector<int64_t> per_rank(static_cast<size_t>(world_size), 0);
  for (size_t i = 0; i < owner_.size(); ++i) {
    if (owner_[i] < 0 || owner_[i] >= world_size) {
      throw InvalidArgument("owner of marginal " + std::to_string(i + 1) + ": got rank " + std::to_string(owner_[i]) +
                            ", expected 0.." + std::to_string(world_size - 1) + " (WORLD_SIZE " +
                            std::to_string(world_size) + ")");
    }
    ++per_rank[static_cast<size_t>(owner_[i])];
    if (owner_[i] == rank) owned_.push_back(static_cast<int64_t>(i));
  }
  for (int r = 0; r < world_size; ++r) {
    if (per_rank[static_cast<size_t>(r)] == 0) {
      throw InvalidArgument("rank " + std::to_string(r) + " owns no marginal (" + std::to_string(owner_.size()) +
                            " marginals over WORLD_SIZE " + std::to_string(world_size) +
                            "): expected at most one process per marginal");
    }
  }
}

MarginalPartition MarginalPartition::round_robin(int64_t count, int world_size, int rank) {
  std::vector<int> owner(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) owner[static_cast<size_t>(i)] = static_cast<int>(i % world_size);
  return MarginalPartition(std::move(owner), world_size, rank);
}

MarginalPartition MarginalPartition::explicit_owners(const std::vector<int>& owners, int world_size, int rank) {
  return MarginalPartition(owners, world_size, rank);
}

std::string MarginalPartition::describe() const {
  std::ostringstream out;
  for (int r = 0; r < world_size_; ++r) {
    out << (r > 0 ? "; " : "") << "rank " << r << ":";
    const char* sep = " ";
    for (size_t i = 0; i < owner_.size(); ++i) {
      if (owner_[i] == r) {
        out << sep << i + 1;
        sep = ", ";
      }
    }
  }
  return out.str();
}

at::Tensor RemoteMarginal::sample(int64_t, at::Generator&) const {
  throw Error("marginal " + spec_ + " lives on rank " + std::to_string(owner_) + "; this rank never reads it");
}

at::Tensor RemoteMarginal::batch(uint64_t, uint64_t, int64_t, int64_t) const {
  throw Error("marginal " + spec_ + " lives on rank " + std::to_string(owner_) + "; this rank never reads it");
}

std::string RemoteMarginal::describe() const { return spec_ + " (on rank " + std::to_string(owner_) + ")"; }

}  // namespace wbary::distributed
