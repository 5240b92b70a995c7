#include "wbary/io/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "wbary/error.h"

namespace wbary::io {

namespace fs = std::filesystem;

void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp_path)>& writer) {
  const fs::path dest(path);
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError(path + ": cannot write, directory '" + dir.string() + "' does not exist");
  }
  // The pid keeps concurrent writers (two CLI runs) from sharing a temporary.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    writer(tmp);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  if (!fs::exists(tmp, ec)) {
    throw IoError(path + ": writer produced no output");
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError(path + ": cannot rename temporary file into place: " + ec.message());
  }
}

void write_text_atomically(const std::string& path, const std::string& content) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << content;
    out.flush();
    if (!out) throw IoError(path + ": write failed (disk full or no permission?)");
  });
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path + ": cannot open for reading (missing file or no permission)");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace wbary::io
