#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"
#include "wbary/error.h"
#include "wbary/io/atomic_file.h"
#include "wbary/io/csv.h"
#include "wbary/io/npy.h"

namespace wbary::io {
namespace {

using wbary::testing::TempDir;

Table sample_table() { return Table{{3, 2}, {1.5, -2.0, 3.25, 4.0, 0.0, -1e-3}}; }

// Writes a .npy file with an arbitrary header, for malformed-input tests.
void write_raw_npy(const std::string& path, const std::string& dict, const std::string& body) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header << body;
}

TEST(Npy, RoundTripFloat64IsExact) {
  TempDir dir;
  write_npy(dir.file("a.npy"), sample_table(), NpyDtype::kFloat64);
  const Table t = read_npy(dir.file("a.npy"));
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.values, sample_table().values);
}

TEST(Npy, RoundTripFloat32RoundsToFloat) {
  TempDir dir;
  Table in{{1, 3}, {0.1, 1.0 / 3.0, 2.0}};
  write_npy(dir.file("a.npy"), in, NpyDtype::kFloat32);
  const Table t = read_npy(dir.file("a.npy"));
  for (size_t k = 0; k < in.values.size(); ++k) {
    EXPECT_EQ(t.values[k], static_cast<double>(static_cast<float>(in.values[k])));
  }
}

TEST(Npy, RejectsIntegerDtypeNamingFileAndDtype) {
  TempDir dir;
  write_raw_npy(dir.file("ints.npy"), "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                std::string(16, '\0'));
  try {
    read_npy(dir.file("ints.npy"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("ints.npy"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("<i8"), std::string::npos);
  }
}

TEST(Npy, RejectsFortranOrderAndTruncatedBody) {
  TempDir dir;
  write_raw_npy(dir.file("f.npy"), "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                std::string(32, '\0'));
  EXPECT_THROW(read_npy(dir.file("f.npy")), IoError);
  write_raw_npy(dir.file("t.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                std::string(24, '\0'));
  EXPECT_THROW(read_npy(dir.file("t.npy")), IoError);
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    read_npy("/nonexistent/cloud.npy");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cloud.npy"), std::string::npos);
  }
}

TEST(Csv, ReadsHeaderCommentsAndRoundTrips) {
  TempDir dir;
  std::ofstream(dir.file("a.csv")) << "x,y\n# a comment\n1.5,-2\n\n3.25,4\n0,-0.001\n";
  const Table t = read_csv(dir.file("a.csv"));
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.values, sample_table().values);
  write_csv(dir.file("b.csv"), t);
  EXPECT_EQ(read_csv(dir.file("b.csv")).values, t.values);
}

TEST(Csv, NanNamesFileLineAndColumn) {
  TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "1,2,3\n4,5,nan\n";
  try {
    read_csv(dir.file("bad.csv"));
    FAIL();
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.csv:2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("column 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  }
}

TEST(Csv, RaggedRowsAndGarbageAreRejected) {
  TempDir dir;
  std::ofstream(dir.file("ragged.csv")) << "1,2\n3\n";
  EXPECT_THROW(read_csv(dir.file("ragged.csv")), IoError);
  std::ofstream(dir.file("garbage.csv")) << "1,2\n3,abc\n";
  EXPECT_THROW(read_csv(dir.file("garbage.csv")), IoError);
}

TEST(AtomicFile, FailedWriterLeavesNoFileAndKeepsOldContent) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  write_text_atomically(path, "old");
  EXPECT_THROW(write_atomically(path,
                                [](const std::string& tmp) {
                                  std::ofstream(tmp) << "half";
                                  throw IoError("simulated failure");
                                }),
               IoError);
  EXPECT_EQ(read_text(path), "old");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u) << "temporary file left behind";
}

TEST(AtomicFile, MissingDirectoryIsAnError) {
  EXPECT_THROW(write_text_atomically("/nonexistent_dir_wbary/x.txt", "x"), IoError);
}

}  // namespace
}  // namespace wbary::io
