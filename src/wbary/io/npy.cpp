#include "wbary/io/npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "wbary/error.h"
#include "wbary/io/atomic_file.h"

namespace wbary::io {
namespace {

const char kMagic[] = "\x93NUMPY";

std::string dict_value(const std::string& header, const std::string& key,
                       const std::string& path) {
  const std::regex re("['\"]" + key + "['\"]\\s*:\\s*([^,}]+(\\([^)]*\\))?)");
  std::smatch m;
  // The shape value contains commas, so it is matched separately.
  if (key == "shape") {
    const std::regex shape_re("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");
    if (std::regex_search(header, m, shape_re)) return m[1];
  } else if (std::regex_search(header, m, re)) {
    return m[1];
  }
  throw IoError(path + ": malformed .npy header, no '" + key + "' entry: " + header);
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t'\"");
  const auto e = s.find_last_not_of(" \t'\"");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

Table read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading (missing file or no permission)");
  char magic[6];
  if (!in.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0) {
    throw IoError(path + ": not a .npy file (bad magic string)");
  }
  unsigned char version[2];
  in.read(reinterpret_cast<char*>(version), 2);
  uint32_t header_len = 0;
  if (version[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    throw IoError(path + ": unsupported .npy format version " + std::to_string(version[0]));
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) throw IoError(path + ": truncated .npy header");

  const std::string descr = trim(dict_value(header, "descr", path));
  const std::string fortran = trim(dict_value(header, "fortran_order", path));
  const std::string shape_str = dict_value(header, "shape", path);

  size_t itemsize = 0;
  if (descr == "<f4" || descr == "=f4") {
    itemsize = 4;
  } else if (descr == "<f8" || descr == "=f8") {
    itemsize = 8;
  } else {
    throw IoError(path + ": dtype '" + descr +
                  "' is not supported, expected little-endian float32 ('<f4') or float64 ('<f8')"
                  " (convert with arr.astype(np.float32))");
  }
  if (fortran != "False") {
    throw IoError(path + ": array is in Fortran order, expected C order (save np.ascontiguousarray(arr))");
  }

  Table t;
  std::stringstream ss(shape_str);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    try {
      t.shape.push_back(std::stoll(item));
    } catch (const std::exception&) {
      throw IoError(path + ": malformed shape '(" + shape_str + ")' in .npy header");
    }
  }
  int64_t count = 1;
  for (int64_t s : t.shape) count *= s;
  t.values.resize(static_cast<size_t>(count));
  if (itemsize == 4) {
    std::vector<float> buf(static_cast<size_t>(count));
    if (!in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(count * 4))) {
      throw IoError(path + ": truncated .npy body, expected " + std::to_string(count) +
                    " float32 values");
    }
    std::copy(buf.begin(), buf.end(), t.values.begin());
  } else if (!in.read(reinterpret_cast<char*>(t.values.data()),
                      static_cast<std::streamsize>(count * 8))) {
    throw IoError(path + ": truncated .npy body, expected " + std::to_string(count) +
                  " float64 values");
  }
  return t;
}

void write_npy(const std::string& path, const Table& table, NpyDtype dtype) {
  std::string shape = "(";
  for (size_t k = 0; k < table.shape.size(); ++k) {
    shape += std::to_string(table.shape[k]);
    if (table.shape.size() == 1 || k + 1 < table.shape.size()) shape += ",";
    if (k + 1 < table.shape.size()) shape += " ";
  }
  shape += ")";
  std::string header = std::string("{'descr': '") + (dtype == NpyDtype::kFloat32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that magic + version + len + header is a multiple of 64 bytes and
  // ends with a newline, as numpy does.
  const size_t unpadded = 6 + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');

  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(len_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (dtype == NpyDtype::kFloat32) {
      std::vector<float> buf(table.values.begin(), table.values.end());
      out.write(reinterpret_cast<const char*>(buf.data()),
                static_cast<std::streamsize>(buf.size() * 4));
    } else {
      out.write(reinterpret_cast<const char*>(table.values.data()),
                static_cast<std::streamsize>(table.values.size() * 8));
    }
    out.flush();
    if (!out) throw IoError(path + ": write failed (disk full or no permission?)");
  });
}

}  // namespace wbary::io
