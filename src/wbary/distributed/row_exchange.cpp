#include "wbary/distributed/row_exchange.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "wbary/error.h"

namespace wbary::distributed {
namespace {

// All tensors of `list` flattened into one buffer of their common dtype and
// device, so that a whole state moves in one collective.
at::Tensor packed_zeros(const std::vector<at::Tensor>& list) {
  int64_t total = 0;
  for (const auto& t : list) total += t.numel();
  return at::zeros({total}, list.front().options());
}

std::vector<at::Tensor> full_tensors(const std::vector<StackRows>& stacks) {
  std::vector<at::Tensor> out;
  for (const auto& s : stacks) {
    if (s.local.size() != s.full.size()) throw InvalidArgument("row exchange: local and full tensor lists differ");
    for (size_t k = 0; k < s.full.size(); ++k) {
      if (s.full[k].scalar_type() != stacks.front().full.front().scalar_type()) {
        throw InvalidArgument("row exchange: tensors of different dtypes");
      }
      out.push_back(s.full[k]);
    }
  }
  return out;
}

}  // namespace

void assemble_rows(ProcessGroup& group, const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned) {
  const std::vector<at::Tensor> full = full_tensors(stacks);
  if (full.empty()) return;
  at::Tensor buffer = packed_zeros(full);
  const at::Tensor index = at::tensor(owned, at::TensorOptions().dtype(at::kLong)).to(buffer.device());
  int64_t offset = 0;
  for (const auto& s : stacks) {
    for (size_t k = 0; k < s.full.size(); ++k) {
      at::Tensor slot = buffer.narrow(0, offset, s.full[k].numel()).view(s.full[k].sizes());
      slot.index_copy_(0, index, s.local[k].detach().to(slot.options()));
      offset += s.full[k].numel();
    }
  }
  group.all_reduce_sum(buffer);
  at::NoGradGuard no_grad;
  offset = 0;
  for (const auto& t : full) {
    t.copy_(buffer.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void distribute_rows(ProcessGroup& group, const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned,
                     int root) {
  const std::vector<at::Tensor> full = full_tensors(stacks);
  if (full.empty()) return;
  broadcast_all(group, full, root);
  select_rows(stacks, owned);
}

void select_rows(const std::vector<StackRows>& stacks, const std::vector<int64_t>& owned) {
  at::NoGradGuard no_grad;
  for (const auto& s : stacks) {
    for (size_t k = 0; k < s.full.size(); ++k) {
      const at::Tensor index = at::tensor(owned, at::TensorOptions().dtype(at::kLong)).to(s.full[k].device());
      s.local[k].copy_(s.full[k].index_select(0, index));
    }
  }
}

void broadcast_all(ProcessGroup& group, const std::vector<at::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  // Grouped by dtype: BatchNorm's step counter is an integer among floats.
  std::vector<at::ScalarType> dtypes;
  for (const auto& t : tensors) {
    if (std::find(dtypes.begin(), dtypes.end(), t.scalar_type()) == dtypes.end()) dtypes.push_back(t.scalar_type());
  }
  at::NoGradGuard no_grad;
  for (const auto dtype : dtypes) {
    std::vector<at::Tensor> same;
    for (const auto& t : tensors) {
      if (t.scalar_type() == dtype) same.push_back(t);
    }
    at::Tensor buffer = packed_zeros(same);
    int64_t offset = 0;
    for (const auto& t : same) {
      buffer.narrow(0, offset, t.numel()).copy_(t.detach().reshape({-1}));
      offset += t.numel();
    }
    group.broadcast(buffer, root);
    offset = 0;
    for (const auto& t : same) {
      t.copy_(buffer.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace wbary::distributed

namespace wbary::distributed {

FilesFromRoot::FilesFromRoot(ProcessGroup& group, const std::vector<std::string>& paths, int root) {
  const bool is_root = group.rank() == root;
  for (const auto& path : paths) {
    std::string bytes;
    int64_t size = -1;
    if (is_root) {
      std::ifstream in(path, std::ios::binary);
      if (in) {
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (!in.bad()) size = static_cast<int64_t>(bytes.size());
      }
    }
    at::Tensor header = at::tensor(std::vector<int64_t>{size}, at::kLong);
    group.broadcast(header, root);
    size = header.item<int64_t>();
    if (size < 0) {
      throw IoError(path + ": cannot read " + (is_root ? "it" : "it on rank " + std::to_string(root)) +
                    " (missing or unreadable)");
    }
    at::Tensor data = at::empty({size}, at::kByte);
    if (is_root && size > 0) std::memcpy(data.data_ptr(), bytes.data(), static_cast<size_t>(size));
    if (size > 0) group.broadcast(data, root);
    if (is_root) {
      paths_.push_back(path);
      continue;
    }
    if (folder_.empty()) {
      std::string pattern = (std::filesystem::temp_directory_path() / "wbary-files-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) throw IoError(pattern + ": cannot create a temporary folder");
      folder_ = pattern;
    }
    const std::string copy =
        (std::filesystem::path(folder_) / std::filesystem::path(path).filename()).string();
    std::ofstream out(copy, std::ios::binary);
    out.write(static_cast<const char*>(data.data_ptr()), size);
    if (!out) throw IoError(copy + ": cannot write the copy of rank " + std::to_string(root) + "'s " + path);
    paths_.push_back(copy);
  }
}

FilesFromRoot::~FilesFromRoot() {
  if (folder_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(folder_, ec);
}

}  // namespace wbary::distributed
