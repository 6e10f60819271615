// ChunkStore on a real temporary folder.
#include "daemon/chunk/chunk_store.h"
#include "daemon/chunk/chunk_file.h"
#include "daemon/chunk/scrub.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/crc32c.h"
#include "common/proto/messages.h"

namespace dos::chunk {
namespace {

constexpr uint32_t kBs = proto::kBlockSize;
constexpr uint64_t kMiB = 1024 * 1024;

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dos-chunk-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto r = ChunkStore::Open(dir_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store_ = std::move(r.value());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Reads [off, off+len) and expects it to succeed.
  std::string MustRead(uint64_t id, uint64_t off, uint32_t len) {
    auto r = store_->Read(id, off, len);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::string();
  }
  std::string dir_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ChunkStoreTest, FileNameBearsTheId) {
  ASSERT_TRUE(store_->Write(0xabcdef12, 1, 0, "x").ok());
  std::string p = store_->ChunkPath(0xabcdef12);
  EXPECT_EQ(p, dir_ + "/chunks/12/00000000abcdef12.chunk");
  EXPECT_TRUE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::exists(store_->CrcPath(0xabcdef12)));  // CRCs inside
  EXPECT_EQ(store_->Usage().chunks, 1u);
}

TEST_F(ChunkStoreTest, RoundTripAtUnalignedOffsets) {
  std::string model;
  std::mt19937 rng(7);
  for (int i = 0; i < 60; ++i) {
    uint64_t off = rng() % (4 * kMiB);
    size_t len = 1 + rng() % (3 * kBs);
    std::string d = Pattern(len, static_cast<uint32_t>(i));
    ASSERT_TRUE(store_->Write(5, 1, off, d).ok());
    if (model.size() < off + len) model.resize(off + len, '\0');
    model.replace(off, len, d);
  }
  EXPECT_EQ(MustRead(5, 0, static_cast<uint32_t>(model.size())), model);
  EXPECT_EQ(MustRead(5, 12345, 100000), model.substr(12345, 100000));
  auto st = store_->Stat(5);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->length, model.size());
}

TEST_F(ChunkStoreTest, HolesReadAsZeros) {
  std::string d = Pattern(1000, 1);
  uint64_t off = 4 * kMiB - 1000;  // last bytes of a 4 MiB chunk
  ASSERT_TRUE(store_->Write(9, 1, off, d).ok());
  std::string all = MustRead(9, 0, 4 * kMiB);
  ASSERT_EQ(all.size(), 4 * kMiB);
  EXPECT_EQ(all.substr(0, off), std::string(off, '\0'));
  EXPECT_EQ(all.substr(off), d);
  // A second write inside the hole, partly over one block.
  ASSERT_TRUE(store_->Write(9, 1, kBs + 10, "hello").ok());
  EXPECT_EQ(MustRead(9, kBs, 20), std::string(10, '\0') + "hello" + std::string(5, '\0'));
}

TEST_F(ChunkStoreTest, GrowingLastPartialBlock) {
  ASSERT_TRUE(store_->Write(3, 1, 0, "abc").ok());
  ASSERT_TRUE(store_->Write(3, 1, 10, "xyz").ok());
  EXPECT_EQ(MustRead(3, 0, 100), std::string("abc\0\0\0\0\0\0\0xyz", 13));
  ASSERT_TRUE(store_->Write(3, 1, 3 * kBs + 5, "q").ok());
  std::string all = MustRead(3, 0, 4 * kBs);
  EXPECT_EQ(all.size(), 3 * kBs + 6);
  EXPECT_EQ(all.substr(0, 13), std::string("abc\0\0\0\0\0\0\0xyz", 13));
  EXPECT_EQ(all.back(), 'q');
}

TEST_F(ChunkStoreTest, ReadPastEndIsShort) {
  ASSERT_TRUE(store_->Write(4, 1, 0, "0123456789").ok());
  EXPECT_EQ(MustRead(4, 5, 100), "56789");
  EXPECT_EQ(MustRead(4, 10, 100), "");
  EXPECT_EQ(MustRead(4, 1000000, 100), "");
}

TEST_F(ChunkStoreTest, TruncateDownThenUpReadsZeros) {
  std::string d = Pattern(3 * kBs + 100, 2);
  ASSERT_TRUE(store_->Write(6, 1, 0, d).ok());
  ASSERT_TRUE(store_->Truncate(6, 1, kBs + 7).ok());
  EXPECT_EQ(MustRead(6, 0, 10 * kBs), d.substr(0, kBs + 7));
  ASSERT_TRUE(store_->Truncate(6, 1, 2 * kBs + 3).ok());
  std::string all = MustRead(6, 0, 10 * kBs);
  ASSERT_EQ(all.size(), 2 * kBs + 3);
  EXPECT_EQ(all.substr(0, kBs + 7), d.substr(0, kBs + 7));
  EXPECT_EQ(all.substr(kBs + 7), std::string(kBs - 4, '\0'));
  ASSERT_TRUE(store_->Truncate(6, 1, 0).ok());
  EXPECT_EQ(MustRead(6, 0, 100), "");
  ASSERT_TRUE(store_->Write(6, 1, 5, "z").ok());
  EXPECT_EQ(MustRead(6, 0, 100), std::string(5, '\0') + "z");
}

TEST_F(ChunkStoreTest, CorruptionIsEio) {
  std::string d = Pattern(3 * kBs, 3);
  ASSERT_TRUE(store_->Write(8, 1, 0, d).ok());
  int fd = open(store_->ChunkPath(8).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = static_cast<char>(d[kBs + 17] ^ 0x40);
  ASSERT_EQ(pwrite(fd, &c, 1, kDataOffset + kBs + 17), 1);
  close(fd);
  EXPECT_EQ(MustRead(8, 0, kBs).size(), kBs);  // block 0 is intact
  auto r = store_->Read(8, 0, 3 * kBs);
  EXPECT_EQ(r.err(), EIO);
  EXPECT_NE(r.status().message().find("0000000000000008"), std::string::npos);
  EXPECT_NE(r.status().message().find("block 1"), std::string::npos);
  // A partial rewrite of the bad block must not launder it: the write
  // patches the stored CRC, which still mismatches the bad byte.
  EXPECT_TRUE(store_->Write(8, 1, kBs + 100, "x").ok());
  EXPECT_EQ(store_->Read(8, kBs, kBs).err(), EIO);
}

// Partial writes inside a chunk's existing bytes patch the stored CRC
// instead of re-summing the block (a few grow the chunk instead): every
// block must still read back (Read checks each CRC) and match a model, the
// short last block included.
TEST_F(ChunkStoreTest, PartialOverwritesMatchAModel) {
  std::string model = Pattern(5 * kBs + 1234, 30);  // a short last block
  ASSERT_TRUE(store_->Write(31, 1, 0, model).ok());
  std::mt19937 rng(31);
  for (int i = 0; i < 400; ++i) {
    size_t len = i % 4 == 0 ? 4096 : 1 + rng() % (i % 3 == 0 ? 2 * kBs : 300);
    len = std::min(len, model.size() - 1);
    uint64_t off = rng() % (model.size() - len + 1);
    if (i % 37 == 36) off = model.size() - len / 2;  // now and then, grow the chunk
    std::string d = Pattern(len, 1000 + i);
    ASSERT_TRUE(store_->Write(31, 1, off, d).ok()) << off << "+" << len;
    if (model.size() < off + len) model.resize(off + len, '\0');
    model.replace(off, len, d);
    if (i % 50 == 49) {
      ASSERT_EQ(MustRead(31, 0, static_cast<uint32_t>(model.size())), model);
    }
  }
  EXPECT_EQ(MustRead(31, 0, static_cast<uint32_t>(model.size())), model);
  for (uint64_t b = 0; b * kBs < model.size(); ++b)
    EXPECT_EQ(MustRead(31, b * kBs, kBs), model.substr(b * kBs, kBs)) << "block " << b;
  EXPECT_TRUE(store_->Verify(31).ok());
  EXPECT_EQ(store_->Stat(31)->length, model.size());
}

// Flips byte off of chunk id in its file, behind the store's back.
void FlipOnDisk(ChunkStore* store, uint64_t id, uint64_t off) {
  int fd = open(store->ChunkPath(id).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(pread(fd, &c, 1, static_cast<off_t>(kDataOffset + off)), 1);
  c = static_cast<char>(c ^ 0x20);
  ASSERT_EQ(pwrite(fd, &c, 1, static_cast<off_t>(kDataOffset + off)), 1);
  close(fd);
}

// A corrupt byte outside a later partial write's range, in the same block:
// the write (which no longer reads that byte) succeeds, and the block still
// reads as EIO: the corruption is not blessed. Whole and short last blocks.
TEST_F(ChunkStoreTest, CorruptionOutsideAPartialWriteIsNotBlessed) {
  const std::string d = Pattern(2 * kBs + 5000, 40);
  struct Case { uint64_t bad, off, len; };
  const Case cases[] = {{kBs + 3, kBs + 4096, 4096},  {kBs + kBs - 1, kBs, 4096},
                        {kBs + 5000, kBs + 5001, 1},  {2 * kBs + 4999, 2 * kBs, 4096},
                        {2 * kBs, 2 * kBs + 1, 4998}, {kBs + 100, kBs + 7, 13}};
  uint64_t id = 40;
  for (const Case& c : cases) {
    ASSERT_TRUE(store_->Write(id, 1, 0, d).ok());
    FlipOnDisk(store_.get(), id, c.bad);
    ASSERT_TRUE(store_->Write(id, 1, c.off, Pattern(c.len, 41)).ok()) << c.off;
    uint64_t block = c.bad / kBs * kBs;
    EXPECT_EQ(store_->Read(id, block, kBs).err(), EIO) << "bad byte at " << c.bad;
    EXPECT_EQ(store_->Verify(id).err(), EIO);
    EXPECT_EQ(MustRead(id, 0, kBs), d.substr(0, kBs));  // the other blocks are fine
    ++id;
  }
}

// A corrupt byte inside a later partial write's range: the data is good
// again, but the CRC patched from the bad byte mismatches it, so the block
// reads as EIO (conservative; a re-replication fixes it) rather than
// trusting bytes never checked.
TEST_F(ChunkStoreTest, CorruptionInsideAPartialWriteIsStillReported) {
  ASSERT_TRUE(store_->Write(50, 1, 0, Pattern(kBs + 300, 50)).ok());
  FlipOnDisk(store_.get(), 50, 4100);
  ASSERT_TRUE(store_->Write(50, 1, 4096, Pattern(4096, 51)).ok());
  EXPECT_EQ(store_->Read(50, 0, kBs).err(), EIO);
  FlipOnDisk(store_.get(), 50, kBs + 299);  // in the short last block
  ASSERT_TRUE(store_->Write(50, 1, kBs + 200, Pattern(100, 52)).ok());
  EXPECT_EQ(store_->Read(50, kBs, kBs).err(), EIO);
}

// A write reads no block it does not change: a bad byte in a later block
// does not fail it, and that block still reads as EIO.
TEST_F(ChunkStoreTest, CorruptionInALaterBlockIsNotBlessed) {
  const std::string d = Pattern(4 * kBs + 10, 70);
  ASSERT_TRUE(store_->Write(70, 1, 0, d).ok());
  FlipOnDisk(store_.get(), 70, 3 * kBs + 5);
  ASSERT_TRUE(store_->Write(70, 1, 100, Pattern(4096, 71)).ok());
  ASSERT_TRUE(store_->Write(70, 1, kBs, Pattern(kBs, 72)).ok());
  EXPECT_EQ(store_->Read(70, 3 * kBs, kBs).err(), EIO);
  EXPECT_EQ(MustRead(70, 2 * kBs, kBs), d.substr(2 * kBs, kBs));
  EXPECT_EQ(MustRead(70, 4 * kBs, kBs), d.substr(4 * kBs));
}

// ApplyWrite with data and a min_len past the chunk's end: the blocks
// between the data and the growth keep their CRC without being read.
TEST_F(ChunkStoreTest, WriteAndGrowLeavesTheBlocksBetween) {
  std::string d = Pattern(3 * kBs + 10, 80);
  ASSERT_TRUE(store_->Write(80, 1, 0, d).ok());
  FlipOnDisk(store_.get(), 80, kBs + 1);  // in a block between: not read, still bad
  ChunkFiles f;
  f.name = "chunk 80";
  ASSERT_TRUE(OpenChunk(store_->ChunkPath(80), store_->CrcPath(80), OpenMode::kWrite, 1, &f).ok());
  ASSERT_TRUE(ApplyWrite(&f, 5, "hello", 5 * kBs + 3).ok());
  d.replace(5, 5, "hello");
  d.resize(5 * kBs + 3, '\0');
  EXPECT_EQ(MustRead(80, 0, kBs), d.substr(0, kBs));
  EXPECT_EQ(store_->Read(80, kBs, kBs).err(), EIO);
  EXPECT_EQ(MustRead(80, 2 * kBs, 4 * kBs), d.substr(2 * kBs));
}

// A write that changes a block's length still reads the old block whole and
// checks it first: a bad byte there fails the write.
TEST_F(ChunkStoreTest, ExtendingWriteChecksTheOldBlock) {
  ASSERT_TRUE(store_->Write(60, 1, 0, Pattern(kBs + 300, 60)).ok());
  FlipOnDisk(store_.get(), 60, kBs + 10);
  EXPECT_EQ(store_->Write(60, 1, kBs + 200, Pattern(200, 61)).err(), EIO);
  EXPECT_EQ(store_->Stat(60)->length, kBs + 300);
}

TEST_F(ChunkStoreTest, DeleteAndStat) {
  EXPECT_EQ(store_->Delete(11).err(), ENOENT);
  EXPECT_EQ(store_->Stat(11).err(), ENOENT);
  EXPECT_EQ(store_->Read(11, 0, 10).err(), ENOENT);
  ASSERT_TRUE(store_->Write(11, 4, 0, "abc").ok());
  auto st = store_->Stat(11);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->version, 4u);
  EXPECT_EQ(st->length, 3u);
  EXPECT_TRUE(store_->Sync(11).ok());
  ASSERT_TRUE(store_->Delete(11).ok());
  EXPECT_FALSE(std::filesystem::exists(store_->ChunkPath(11)));
  EXPECT_FALSE(std::filesystem::exists(store_->CrcPath(11)));
  EXPECT_EQ(store_->Usage().chunks, 0u);
  EXPECT_EQ(store_->Sync(11).err(), ENOENT);
}

TEST_F(ChunkStoreTest, OlderReplicaIsStale) {
  ASSERT_TRUE(store_->Write(12, 2, 0, "abc").ok());
  EXPECT_EQ(store_->Read(12, 0, 3, 3).err(), ESTALE);
  EXPECT_EQ(MustRead(12, 0, 3), "abc");
  ASSERT_TRUE(store_->Truncate(12, 3, 2).ok());
  EXPECT_EQ(store_->Read(12, 0, 3, 3).value(), "ab");
}

TEST_F(ChunkStoreTest, OlderWriteIsRefused) {
  ASSERT_TRUE(store_->Write(13, 5, 0, "abc").ok());
  EXPECT_EQ(store_->Write(13, 4, 0, "xyz").err(), ESTALE);
  EXPECT_EQ(store_->Truncate(13, 4, 1).err(), ESTALE);
  EXPECT_EQ(MustRead(13, 0, 3), "abc");
  ASSERT_TRUE(store_->Write(13, 5, 1, "Q").ok());
  ASSERT_TRUE(store_->Write(13, 6, 2, "R").ok());
  EXPECT_EQ(MustRead(13, 0, 3), "aQR");
  EXPECT_EQ(store_->Stat(13)->version, 6u);
}

TEST_F(ChunkStoreTest, ConcurrentWritersToOneChunk) {
  constexpr int kThreads = 8;
  constexpr uint64_t kSlice = 3 * kBs / 2 + 77;  // slices share blocks
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      std::string d = Pattern(kSlice, static_cast<uint32_t>(100 + t));
      for (uint64_t at = 0; at < kSlice; at += 1000) {
        std::string_view piece = std::string_view(d).substr(at, 1000);
        ASSERT_TRUE(store_->Write(21, 1, t * kSlice + at, piece).ok());
      }
    });
  }
  for (auto& t : ts) t.join();
  std::string all = MustRead(21, 0, kThreads * kSlice);
  ASSERT_EQ(all.size(), kThreads * kSlice);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(all.substr(t * kSlice, kSlice), Pattern(kSlice, static_cast<uint32_t>(100 + t)));
}

TEST_F(ChunkStoreTest, ReopenCountsChunks) {
  ASSERT_TRUE(store_->Write(1, 1, 0, "a").ok());
  ASSERT_TRUE(store_->Write(257, 1, 0, "b").ok());
  store_.reset();
  auto r = ChunkStore::Open(dir_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->Usage().chunks, 2u);
  EXPECT_GT(r.value()->Usage().capacity, 0u);
}

// A chunk of format 1 (bytes in .chunk, header and CRCs in a .crc sidecar,
// as older builds wrote them) is read, written, cut and deleted as before;
// new chunks in the same store are format 2 (no sidecar).
TEST_F(ChunkStoreTest, SidecarChunksOfOlderBuildsStillServe) {
  const uint64_t id = 0x5d;
  std::string d = Pattern(2 * kBs + 100, 7);
  ASSERT_TRUE(store_->Write(1, 1, 0, "x").ok());  // makes the subfolder layout
  std::filesystem::create_directories(std::filesystem::path(store_->ChunkPath(id)).parent_path());
  {
    std::ofstream data(store_->ChunkPath(id), std::ios::binary);
    data.write(d.data(), static_cast<std::streamsize>(d.size()));
    CrcHeader h;
    h.format = kCrcFormatSidecar;
    h.version = 3;
    std::ofstream crc(store_->CrcPath(id), std::ios::binary);
    crc.write(reinterpret_cast<const char*>(&h), sizeof(h));
    for (uint64_t b = 0; b * kBs < d.size(); ++b) {
      uint32_t v = Crc32c(d.data() + b * kBs, std::min<uint64_t>(kBs, d.size() - b * kBs));
      crc.write(reinterpret_cast<const char*>(&v), sizeof(v));
    }
  }
  store_.reset();
  auto r = ChunkStore::Open(dir_);
  ASSERT_TRUE(r.ok());
  store_ = std::move(r.value());
  EXPECT_EQ(store_->Usage().chunks, 2u);
  EXPECT_EQ(MustRead(id, 0, 3 * kBs), d);
  EXPECT_EQ(store_->Stat(id)->version, 3u);
  EXPECT_EQ(store_->Stat(id)->length, d.size());
  EXPECT_EQ(store_->Write(id, 2, 0, "old").err(), ESTALE);
  ASSERT_TRUE(store_->Write(id, 4, kBs - 2, "four").ok());
  d.replace(kBs - 2, 4, "four");
  EXPECT_EQ(MustRead(id, 0, 3 * kBs), d);
  EXPECT_EQ(std::filesystem::file_size(store_->ChunkPath(id)), d.size());  // bytes alone
  ASSERT_TRUE(store_->Truncate(id, 4, kBs + 5).ok());
  EXPECT_EQ(MustRead(id, 0, 3 * kBs), d.substr(0, kBs + 5));
  EXPECT_TRUE(store_->Verify(id).ok());
  EXPECT_TRUE(store_->Sync(id).ok());
  // A new chunk in this store: no sidecar, a stale one is not taken for it.
  const uint64_t fresh = 0x15d;
  std::filesystem::copy_file(store_->CrcPath(id), store_->CrcPath(fresh));
  ASSERT_TRUE(store_->Write(fresh, 1, 10, "new").ok());
  EXPECT_FALSE(std::filesystem::exists(store_->CrcPath(fresh)));
  EXPECT_EQ(MustRead(fresh, 0, 100), std::string(10, '\0') + "new");
  ASSERT_TRUE(store_->Delete(id).ok());
  EXPECT_FALSE(std::filesystem::exists(store_->ChunkPath(id)));
  EXPECT_FALSE(std::filesystem::exists(store_->CrcPath(id)));
  EXPECT_EQ(store_->Read(id, 0, 1).err(), ENOENT);
}

// The chunk file: header, CRC table, bytes from kDataOffset; its size
// tells the length.
TEST_F(ChunkStoreTest, OneFilePerChunk) {
  std::string d = Pattern(kBs + 3, 9);
  ASSERT_TRUE(store_->Write(0x77, 2, 0, d).ok());
  std::ifstream in(store_->ChunkPath(0x77), std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(all.size(), kDataOffset + d.size());
  CrcHeader h;
  std::memcpy(&h, all.data(), sizeof(h));
  EXPECT_EQ(h.magic, kCrcMagic);
  EXPECT_EQ(h.format, kCrcFormat);
  EXPECT_EQ(h.version, 2u);
  uint32_t crc1 = 0;
  std::memcpy(&crc1, all.data() + sizeof(h) + 4, 4);
  EXPECT_EQ(crc1, Crc32c(d.data() + kBs, 3));
  EXPECT_EQ(all.substr(kDataOffset), d);
  EXPECT_EQ(kDataOffset % 4096, 0u);
  EXPECT_GE(kDataOffset, sizeof(CrcHeader) + proto::kMaxChunkSize / kBs * 4);
  ASSERT_TRUE(store_->Truncate(0x77, 2, 0).ok());
  EXPECT_EQ(store_->Stat(0x77)->length, 0u);
  ASSERT_TRUE(store_->Truncate(0x78, 1, 10).ok());  // made by a truncate
  EXPECT_EQ(MustRead(0x78, 0, 20), std::string(10, '\0'));
}

TEST(ChunkStoreOpen, UnusableDirFails) {
  auto r = ChunkStore::Open("/proc/self/nonexistent/dir");
  EXPECT_FALSE(r.ok());
}

// List (the inventory) and Verify/ScrubAll (the scrub) of issue 3.
TEST_F(ChunkStoreTest, ListPagesInIdOrderWithVersions) {
  for (uint64_t id : {0x301ull, 5ull, 0x102ull}) ASSERT_TRUE(store_->Write(id, id == 5 ? 4 : 1, 0, "ab").ok());
  auto all = store_->List(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, 5u);
  EXPECT_EQ((*all)[0].version, 4u);
  EXPECT_EQ((*all)[1].id, 0x102u);
  EXPECT_EQ((*all)[2].id, 0x301u);
  auto page = store_->List(5, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, 0x102u);
}

TEST_F(ChunkStoreTest, VerifyAndScrubFindAFlippedByte) {
  std::string d = Pattern(3 * kBs + 5, 9);
  ASSERT_TRUE(store_->Write(7, 1, 0, d).ok());
  ASSERT_TRUE(store_->Write(9, 1, 0, d).ok());
  uint64_t bytes = 0;
  EXPECT_TRUE(store_->Verify(7, &bytes).ok());
  EXPECT_EQ(bytes, d.size());
  int fd = open(store_->ChunkPath(9).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = static_cast<char>(d[2 * kBs + 1] ^ 1);
  ASSERT_EQ(pwrite(fd, &c, 1, kDataOffset + 2 * kBs + 1), 1);
  close(fd);
  EXPECT_EQ(store_->Verify(9).err(), EIO);
  EXPECT_EQ(store_->Verify(1234).err(), ENOENT);
  ScrubResult r;
  std::vector<uint64_t> seen;
  ASSERT_TRUE(ScrubAll(store_.get(), 0, nullptr, &r, [&](uint64_t id) { seen.push_back(id); }).ok());
  EXPECT_EQ(r.chunks, 2u);
  EXPECT_EQ(r.bad, std::vector<uint64_t>{9});
  EXPECT_EQ(seen, std::vector<uint64_t>{9});
}

}  // namespace
}  // namespace dos::chunk
