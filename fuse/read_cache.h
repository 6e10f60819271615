// ReadCache: whole 64 KiB blocks (proto::kBlockSize, the CRC block of a
// chunk) of open files, kept by dosfs after a small read.
//
// A chunk node reads and checks the whole CRC block holding any byte it is
// asked for. A read smaller than a block (the kernel asks 4 KiB at a time
// when it sees no sequential pattern) therefore fetches the whole blocks it
// touches and keeps them here; later small reads inside them are answered
// without a round trip. Reads of whole blocks (sequential reads, which the
// kernel's page cache keeps), reads through O_DIRECT descriptors and reads
// of files larger than the cache (it would evict blocks before their next
// use) neither fill the cache nor look in it.
//
// Each block carries the data generation of its file (FileState::DataGen)
// at the time the read began; it is served only while that generation is
// still the file's. The generation moves at every open (close-to-open, as
// the kernel's page cache), at the end of every write and truncate through
// this process, and when meta's attributes show another size or mtime (a
// change made elsewhere, seen when the kernel asks for attributes again, as
// it drops its own pages then). Generations are unique in the process, so a
// block of a file closed and opened again can never match.
//
// Blocks are evicted least recently used first beyond the capacity (bytes;
// 0 turns the cache off).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace dos::fs {

class ReadCache {
 public:
  static constexpr uint64_t kDefaultCapacity = 256ull << 20;

  explicit ReadCache(uint64_t capacity = kDefaultCapacity) : capacity_(capacity) {}
  uint64_t capacity() const { return capacity_; }
  void set_capacity(uint64_t bytes);

  // Copies [off, off+len) of ino into dst if every byte of it lies in
  // blocks of generation gen; true then. Blocks of an older generation met
  // on the way are dropped (generations only grow).
  bool Get(uint64_t ino, uint64_t gen, uint64_t off, size_t len, char* dst);
  // Keeps data as the block of ino at block_off (a multiple of the block
  // size; data at most a block long, shorter at the end of the file),
  // read while the file was at generation gen, unless a block of a newer
  // generation is there.
  void Put(uint64_t ino, uint64_t gen, uint64_t block_off, std::string data);
  // Drops every block of ino (its last handle was released); gives the
  // memory back to the system when that was at least kTrimBytes.
  static constexpr uint64_t kTrimBytes = 16ull << 20;
  void Forget(uint64_t ino);

  uint64_t bytes() const;
  size_t blocks() const;

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // ino, block offset
  struct Block {
    uint64_t gen;
    std::string data;
    std::list<Key>::iterator lru;  // its place in lru_
  };
  // With mu_ held: removes it from blocks_ and lru_.
  void EraseLocked(std::map<Key, Block>::iterator it);
  // With mu_ held: evicts the least recently used until within capacity_.
  void TrimLocked();

  mutable std::mutex mu_;  // guards everything below
  uint64_t capacity_;
  uint64_t bytes_ = 0;
  std::map<Key, Block> blocks_;
  std::list<Key> lru_;  // most recently used first
};

}  // namespace dos::fs
