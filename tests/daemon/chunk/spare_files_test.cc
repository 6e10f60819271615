// SpareFiles and the chunk store's reuse of deleted chunks' files, on a
// real temporary folder.
#include "daemon/chunk/spare_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/proto/messages.h"
#include "daemon/chunk/chunk_file.h"
#include "daemon/chunk/chunk_store.h"

namespace dos::chunk {
namespace {

namespace fs = std::filesystem;

class SpareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dos-spare-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void MakeFile(const std::string& path, size_t bytes) {
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'q');
  }
  size_t FilesIn(const std::string& d) {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(d)) n += e.is_regular_file() ? 1 : 0;
    return n;
  }
  struct stat Stat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st;
  }
  std::string dir_;
};

// A retired file keeps its inode in the pool with no bytes and no blocks; a
// take moves that very inode, empty, to the new path.
TEST_F(SpareTest, RetireEmptiesAndTakeMovesTheSameInode) {
  auto sp = SpareFiles::Open(dir_ + "/spare", 4);
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  MakeFile(dir_ + "/a", 1 << 20);
  const ino_t ino = Stat(dir_ + "/a").st_ino;
  ASSERT_TRUE((*sp)->Retire(dir_ + "/a").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/a"));
  EXPECT_EQ((*sp)->size(), 1u);
  ASSERT_EQ(FilesIn(dir_ + "/spare"), 1u);
  const std::string spare = fs::directory_iterator(dir_ + "/spare")->path().string();
  EXPECT_EQ(Stat(spare).st_size, 0);
  EXPECT_EQ(Stat(spare).st_blocks, 0);
  ASSERT_EQ((*sp)->Take(dir_ + "/b"), 0);
  EXPECT_EQ(Stat(dir_ + "/b").st_ino, ino);
  EXPECT_EQ(Stat(dir_ + "/b").st_size, 0);
  EXPECT_EQ((*sp)->size(), 0u);
  EXPECT_EQ((*sp)->Take(dir_ + "/c"), EAGAIN);  // none left
  EXPECT_FALSE(fs::exists(dir_ + "/c"));
}

TEST_F(SpareTest, ErrorsOfRetireAndTake) {
  auto sp = SpareFiles::Open(dir_ + "/spare", 4);
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ((*sp)->Retire(dir_ + "/absent").err(), ENOENT);
  fs::create_directory(dir_ + "/d");
  EXPECT_EQ((*sp)->Retire(dir_ + "/d").err(), EISDIR);  // as unlink(2) says
  EXPECT_TRUE(fs::is_directory(dir_ + "/d"));
  EXPECT_EQ((*sp)->size(), 0u);
  MakeFile(dir_ + "/a", 10);
  ASSERT_TRUE((*sp)->Retire(dir_ + "/a").ok());
  // The destination exists: nothing is replaced and the spare stays.
  MakeFile(dir_ + "/taken", 3);
  EXPECT_EQ((*sp)->Take(dir_ + "/taken"), EEXIST);
  EXPECT_EQ(Stat(dir_ + "/taken").st_size, 3);
  // The destination's folder is missing: ENOENT, the spare stays.
  EXPECT_EQ((*sp)->Take(dir_ + "/nodir/x"), ENOENT);
  EXPECT_EQ((*sp)->size(), 1u);
  // A spare removed by hand is forgotten, not retried for ever.
  for (auto& e : fs::directory_iterator(dir_ + "/spare")) fs::remove(e.path());
  EXPECT_EQ((*sp)->Take(dir_ + "/y"), EAGAIN);
  EXPECT_EQ((*sp)->size(), 0u);
}

// Past max a delete is an unlink; the pool never holds more than max.
TEST_F(SpareTest, AtMostMaxAreKept) {
  auto sp = SpareFiles::Open(dir_ + "/spare", 2);
  ASSERT_TRUE(sp.ok());
  for (int i = 0; i < 5; ++i) {
    MakeFile(dir_ + "/f" + std::to_string(i), 100);
    ASSERT_TRUE((*sp)->Retire(dir_ + "/f" + std::to_string(i)).ok());
    EXPECT_FALSE(fs::exists(dir_ + "/f" + std::to_string(i)));
  }
  EXPECT_EQ((*sp)->size(), 2u);
  EXPECT_EQ(FilesIn(dir_ + "/spare"), 2u);
}

// At Open: spares are kept (up to max) and emptied (a crash between a
// delete's rename and its truncate leaves bytes); anything else goes.
TEST_F(SpareTest, OpenKeepsEmptiesAndCleans) {
  fs::create_directory(dir_ + "/spare");
  MakeFile(dir_ + "/spare/7", 5000);
  MakeFile(dir_ + "/spare/3", 0);
  MakeFile(dir_ + "/spare/9", 1);
  MakeFile(dir_ + "/spare/junk", 10);
  auto sp = SpareFiles::Open(dir_ + "/spare", 2);
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ((*sp)->size(), 2u);
  EXPECT_EQ(FilesIn(dir_ + "/spare"), 2u);
  EXPECT_FALSE(fs::exists(dir_ + "/spare/junk"));
  for (auto& e : fs::directory_iterator(dir_ + "/spare")) EXPECT_EQ(fs::file_size(e.path()), 0u);
  // New spares get names not in use.
  MakeFile(dir_ + "/z", 1);
  auto big = SpareFiles::Open(dir_ + "/spare", 8);
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE((*big)->Retire(dir_ + "/z").ok());
  EXPECT_EQ((*big)->size(), 3u);
  EXPECT_EQ(FilesIn(dir_ + "/spare"), 3u);
}

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() | 1);  // never a zero byte
  return s;
}

// A chunk made in a deleted chunk's file holds only its own bytes: holes
// read as zeros, the length and version are the new chunk's, CRCs check,
// and the store counts chunks, not spares.
TEST_F(SpareTest, ChunkInAReusedFileHoldsNothingOfTheOld) {
  auto r = ChunkStore::Open(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto& store = *r;
  const std::string old = Pattern(1 << 20, 1);
  ASSERT_TRUE(store->Write(5, 9, 0, old).ok());
  const ino_t ino = Stat(store->ChunkPath(5)).st_ino;
  ASSERT_TRUE(store->Delete(5).ok());
  EXPECT_EQ(store->Usage().chunks, 0u);
  EXPECT_EQ(FilesIn(dir_ + "/spare"), 1u);
  EXPECT_EQ(store->Read(5, 0, 10).err(), ENOENT);
  // Chunk 300 (another subfolder) is written at 64 KiB: the first 64 KiB are a hole.
  ASSERT_TRUE(store->Write(300, 1, 64 * 1024, "new").ok());
  EXPECT_EQ(Stat(store->ChunkPath(300)).st_ino, ino);  // the same file, reused
  EXPECT_EQ(FilesIn(dir_ + "/spare"), 0u);
  auto st = store->Stat(300);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->version, 1u);
  EXPECT_EQ(st->length, 64u * 1024 + 3);
  auto got = store->Read(300, 0, 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::string(64 * 1024, '\0') + "new");
  EXPECT_TRUE(store->Verify(300).ok());
  EXPECT_EQ(store->Usage().chunks, 1u);
  auto held = store->List(0, 10);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].id, 300u);
  // Spares outlive a restart and are taken after it.
  ASSERT_TRUE(store->Delete(300).ok());
  store.reset();
  auto again = ChunkStore::Open(dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Usage().chunks, 0u);
  ASSERT_TRUE((*again)->Write(6, 1, 0, "x").ok());
  EXPECT_EQ(Stat((*again)->ChunkPath(6)).st_ino, ino);
  EXPECT_EQ((*again)->Read(6, 0, 100).value(), "x");
}

}  // namespace
}  // namespace dos::chunk
