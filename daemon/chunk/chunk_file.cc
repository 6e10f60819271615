#include "daemon/chunk/chunk_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/crc32c.h"
#include "common/proto/messages.h"

namespace dos::chunk {

namespace {

constexpr uint64_t kBs = proto::kBlockSize;
constexpr uint64_t kHeaderSize = sizeof(CrcHeader);

uint64_t Blocks(uint64_t len) { return (len + kBs - 1) / kBs; }

// CRC32C of n zero bytes (n <= kBs).
uint32_t ZeroCrc(uint64_t n) {
  static const std::string zeros(kBs, '\0');
  static const uint32_t full = Crc32c(zeros.data(), kBs);
  return n == kBs ? full : Crc32c(zeros.data(), n);
}

Status PreadAll(int fd, char* buf, size_t n, uint64_t off, const std::string& what,
                size_t* got) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return PosixError("read " + what, errno);
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *got = done;
  return Status::Ok();
}

Status PwriteAll(int fd, const char* buf, size_t n, uint64_t off, const std::string& what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pwrite(fd, buf + done, n - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return PosixError("write " + what, errno);
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

// CRCs of blocks [first, first+count) from the sidecar; EIO if it is short.
Status LoadCrcs(const ChunkFiles& f, uint64_t first, uint64_t count, std::vector<uint32_t>* out) {
  out->assign(count, 0);
  if (count == 0) return Status::Ok();
  size_t got = 0;
  size_t bytes = count * sizeof(uint32_t);
  Status s = PreadAll(f.crc_fd(), reinterpret_cast<char*>(out->data()), bytes,
                      kHeaderSize + first * sizeof(uint32_t), f.name + " crc", &got);
  if (!s.ok()) return s;
  if (got != bytes)
    return Status::Err(EIO, f.name + ": crc table too short for block " +
                                std::to_string(first + got / sizeof(uint32_t)));
  return Status::Ok();
}

Status StoreCrcs(const ChunkFiles& f, uint64_t first, const std::vector<uint32_t>& crcs) {
  return PwriteAll(f.crc_fd(), reinterpret_cast<const char*>(crcs.data()),
                   crcs.size() * sizeof(uint32_t), kHeaderSize + first * sizeof(uint32_t),
                   f.name + " crc");
}

Status CrcMismatch(const ChunkFiles& f, uint64_t block) {
  return Status::Err(EIO, f.name + ": CRC32C mismatch in block " + std::to_string(block) +
                              " (bytes " + std::to_string(block * kBs) + "..)");
}

// Reads the existing bytes of block b (up to the chunk's end) into buf and
// checks them against expect.
Status ReadOldBlock(const ChunkFiles& f, uint64_t b, uint32_t expect, std::string* buf) {
  uint64_t n = std::min(kBs, f.length - b * kBs);
  size_t got = 0;
  Status s = PreadAll(f.data.get(), buf->data(), n, f.data_offset() + b * kBs, f.name, &got);
  if (!s.ok()) return s;
  if (got != n) return Status::Err(EIO, f.name + ": short read in block " + std::to_string(b));
  if (Crc32c(buf->data(), n) != expect) return CrcMismatch(f, b);
  return Status::Ok();
}

Status WriteHeader(const ChunkFiles& f) {
  return PwriteAll(f.crc_fd(), reinterpret_cast<const char*>(&f.header), kHeaderSize,
                   0, f.name + " header");
}

Status ReadHeader(ChunkFiles* f) {
  size_t got = 0;
  Status s = PreadAll(f->crc_fd(), reinterpret_cast<char*>(&f->header), kHeaderSize, 0,
                      f->name + " header", &got);
  if (!s.ok()) return s;
  const uint32_t format = f->crc.valid() ? kCrcFormatSidecar : kCrcFormat;
  if (got != kHeaderSize || f->header.magic != kCrcMagic || f->header.format != format)
    return Status::Err(EIO,
                       f->name + (f->crc.valid() ? ": bad crc sidecar header" : ": bad header"));
  return Status::Ok();
}

Status FileLength(ChunkFiles* f) {
  struct stat st;
  if (fstat(f->data.get(), &st) != 0) return PosixError("stat " + f->name, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  f->length = size > f->data_offset() ? size - f->data_offset() : 0;
  return Status::Ok();
}

// Makes a new chunk (format 2): the file and its header. A format 1 sidecar
// left without its data file (a crash of an older build between the two
// creations) goes first, or it would be taken for this chunk's.
Status CreateChunk(const std::string& data_path, const std::string& crc_path, uint64_t version,
                   ChunkFiles* f, SpareFiles* spares) {
  if (!crc_path.empty() && unlink(crc_path.c_str()) != 0 && errno != ENOENT)
    return PosixError("delete " + crc_path, errno);
  const std::string dir = data_path.substr(0, data_path.rfind('/'));
  auto make_dir = [&dir] { return mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST; };
  if (spares) {
    int err = spares->Take(data_path);
    if (err == ENOENT && make_dir()) err = spares->Take(data_path);  // subfolder made on first use
    if (err == 0) {
      f->data = Fd(open(data_path.c_str(), O_RDWR | O_CLOEXEC));
      if (!f->data.valid()) {  // no empty file left where the chunk would be
        const int open_err = errno;
        (void)unlink(data_path.c_str());
        return PosixError("open " + data_path, open_err);
      }
    }
  }
  const int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
  if (!f->data.valid()) f->data = Fd(open(data_path.c_str(), flags, 0644));
  if (!f->data.valid() && errno == ENOENT) {
    if (!make_dir()) return PosixError("mkdir " + dir, errno);
    f->data = Fd(open(data_path.c_str(), flags, 0644));
  }
  if (!f->data.valid()) return PosixError("create " + data_path, errno);
  f->header = CrcHeader{};
  f->header.version = version;
  if (Status s = WriteHeader(*f); !s.ok()) {
    // A full disk: no chunk without its header is left behind.
    f->data = Fd();
    (void)unlink(data_path.c_str());
    return s;
  }
  f->created = true;
  f->length = 0;
  return Status::Ok();
}

}  // namespace

Status PosixError(const std::string& context, int err) { return Status::Err(err, context); }

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Status OpenChunk(const std::string& data_path, const std::string& crc_path, OpenMode mode,
                 uint64_t version, ChunkFiles* f, SpareFiles* spares) {
  int flags = (mode == OpenMode::kRead ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  f->data = Fd(open(data_path.c_str(), flags));
  if (!f->data.valid()) {
    if (errno == ENOENT && mode == OpenMode::kCreate)
      return CreateChunk(data_path, crc_path, version, f, spares);
    if (errno == ENOENT) return Status::Err(ENOENT, f->name + " not on this node");
    return PosixError("open " + data_path, errno);
  }
  if (!crc_path.empty()) {
    f->crc = Fd(open(crc_path.c_str(), flags));  // a format 1 chunk
    if (!f->crc.valid() && errno != ENOENT) return PosixError("open " + crc_path, errno);
  }
  if (Status s = ReadHeader(f); !s.ok()) return s;
  return FileLength(f);
}

namespace {

// A write as ApplyWrite sees it: data lands at [off, end); the chunk goes
// from old_len to new_len bytes.
struct Span {
  uint64_t off, end, old_len, new_len;
  std::string_view data;
};

// The CRC of block b [bs, be), whose length the write does not change and
// whose bytes it partly overwrites: the stored CRC patched with the change
// of the overwritten bytes (Crc32cPatch), so only those old bytes are read
// into buf, not the whole block (a 4 KiB write used to read 64 KiB and sum
// it twice). The rest of the block is neither read nor
// checked here. A corruption there is not blessed: the new CRC derives from
// the stored one, still mismatches the bad bytes, and the next read or
// scrub reports it. A corruption inside the overwritten range makes the new
// CRC mismatch the (now good) data, reported the same way: conservative,
// never silent.
Status PatchedBlockCrc(const ChunkFiles& f, const Span& w, uint64_t bs, uint64_t be,
                       uint32_t old_crc, std::string* buf, uint32_t* crc) {
  const uint64_t from = std::max(bs, w.off), to = std::min(be, w.end);
  buf->resize(to - from);
  size_t got = 0;
  if (Status s = PreadAll(f.data.get(), buf->data(), buf->size(), f.data_offset() + from, f.name,
                          &got);
      !s.ok())
    return s;
  if (got != buf->size())
    return Status::Err(EIO, f.name + ": short read in block " + std::to_string(bs / kBs));
  *crc = Crc32cPatch(old_crc, be - bs, from - bs, buf->data(), w.data.data() + (from - w.off),
                     to - from);
  return Status::Ok();
}

// The CRC of block b after the write. A block the data covers whole is
// summed from the data, one of only new zeros from ZeroCrc; one the data
// partly overwrites without changing its length is patched
// (PatchedBlockCrc), one neither written nor grown keeps old_crc; any other
// (its length changes) is merged in buf from its checked old bytes, zeros
// and the data.
Status NewBlockCrc(const ChunkFiles& f, const Span& w, uint64_t b, uint32_t old_crc,
                   std::string* buf, uint32_t* crc) {
  const uint64_t bs = b * kBs, be = std::min(bs + kBs, w.new_len);
  const bool untouched = w.data.empty() || be <= w.off || bs >= w.end;
  if (!w.data.empty() && w.off <= bs && be <= w.end) {
    *crc = Crc32c(w.data.data() + (bs - w.off), be - bs);
    return Status::Ok();
  }
  // be <= old_len: the block held all of [bs, be) before, so its old and new
  // lengths are equal. Missed by the data, it lies between the data and the
  // chunk's growth (min_len) and stays as it was.
  if (be <= w.old_len && !untouched) return PatchedBlockCrc(f, w, bs, be, old_crc, buf, crc);
  if (be <= w.old_len) {
    *crc = old_crc;
    return Status::Ok();
  }
  if (bs >= w.old_len && untouched) {
    *crc = ZeroCrc(be - bs);
    return Status::Ok();
  }
  buf->assign(be - bs, '\0');
  if (bs < w.old_len) {
    if (Status s = ReadOldBlock(f, b, old_crc, buf); !s.ok()) return s;
  }
  if (!untouched) {
    uint64_t from = std::max(bs, w.off), to = std::min(be, w.end);
    std::memcpy(buf->data() + (from - bs), w.data.data() + (from - w.off), to - from);
  }
  *crc = Crc32c(buf->data(), buf->size());
  return Status::Ok();
}

// Allocates the disk blocks a write of len bytes at off (and the CRCs of
// blocks up to blocks) will need, without changing the file sizes, so that a
// full disk shows as ENOSPC before a byte is written. A file system without
// fallocate gets the plain writes (and their errno) instead.
Status Reserve(const ChunkFiles& f, uint64_t off, uint64_t len, uint64_t blocks) {
  if (len > 0 && fallocate(f.data.get(), FALLOC_FL_KEEP_SIZE,
                           static_cast<off_t>(f.data_offset() + off),
                           static_cast<off_t>(len)) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS) return PosixError("reserve " + f.name, errno);
  }
  if (fallocate(f.crc_fd(), FALLOC_FL_KEEP_SIZE, 0,
                static_cast<off_t>(kHeaderSize + blocks * sizeof(uint32_t))) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS)
      return PosixError("reserve " + f.name + " crc", errno);
  }
  return Status::Ok();
}

}  // namespace

Status ApplyWrite(ChunkFiles* f, uint64_t off, std::string_view data, uint64_t min_len) {
  const uint64_t end = off + data.size();
  Span w{off, end, f->length, std::max({f->length, data.empty() ? 0 : end, min_len}), data};
  if (data.empty() && w.new_len == w.old_len) return Status::Ok();
  if (data.empty()) w.off = w.end = w.new_len;  // nothing written: only the tail grows
  // Blocks b0..b1 hold every changed byte: the data's, and the chunk's growth
  // if it grows. Not the blocks after the data in a chunk that does not grow:
  // summing them again (reading up to the chunk's end) was most of the cost of
  // a small write.
  const uint64_t last = w.new_len > w.old_len ? w.new_len : w.end;
  const uint64_t b0 = std::min(w.off, w.old_len) / kBs, b1 = (last - 1) / kBs;
  const uint64_t old_blocks = std::min(Blocks(w.old_len), b1 + 1);
  std::vector<uint32_t> old_crcs, crcs(b1 - b0 + 1);
  if (Status s = LoadCrcs(*f, b0, old_blocks > b0 ? old_blocks - b0 : 0, &old_crcs); !s.ok())
    return s;
  if (Status s = Reserve(*f, w.off, w.end - w.off, b1 + 1); !s.ok()) return s;
  std::string buf;
  for (uint64_t b = b0; b <= b1; ++b) {
    uint32_t old_crc = b < old_blocks ? old_crcs[b - b0] : 0;
    if (Status s = NewBlockCrc(*f, w, b, old_crc, &buf, &crcs[b - b0]); !s.ok()) return s;
  }
  if (!data.empty()) {
    if (Status s = PwriteAll(f->data.get(), data.data(), data.size(), f->data_offset() + off,
                             f->name);
        !s.ok())
      return s;
  }
  if (w.new_len > std::max(w.old_len, data.empty() ? 0 : end)) {
    if (ftruncate(f->data.get(), static_cast<off_t>(f->data_offset() + w.new_len)) != 0)
      return PosixError("extend " + f->name, errno);
  }
  f->length = w.new_len;
  return StoreCrcs(*f, b0, crcs);
}

Status Shrink(ChunkFiles* f, uint64_t len) {
  std::vector<uint32_t> crc;
  const uint64_t b = len / kBs;
  const bool partial = len % kBs != 0;
  if (partial) {
    if (Status s = LoadCrcs(*f, b, 1, &crc); !s.ok()) return s;
    std::string buf(kBs, '\0');
    if (Status s = ReadOldBlock(*f, b, crc[0], &buf); !s.ok()) return s;
    crc[0] = Crc32c(buf.data(), len - b * kBs);
  }
  if (ftruncate(f->data.get(), static_cast<off_t>(f->data_offset() + len)) != 0)
    return PosixError("truncate " + f->name, errno);
  f->length = len;
  if (partial) {
    if (Status s = StoreCrcs(*f, b, crc); !s.ok()) return s;
  }
  // A format 2 chunk keeps the CRCs past its end: unread (a block past the
  // end gets a fresh CRC when the chunk grows again).
  if (!f->crc.valid()) return Status::Ok();
  off_t crc_len = static_cast<off_t>(kHeaderSize + Blocks(len) * sizeof(uint32_t));
  if (ftruncate(f->crc.get(), crc_len) != 0) return PosixError("truncate " + f->name + " crc", errno);
  return Status::Ok();
}

Status ReadBlocks(const ChunkFiles& f, uint64_t off, uint64_t len, std::string* out,
                  size_t* skip) {
  out->clear();
  *skip = 0;
  if (off >= f.length || len == 0) return Status::Ok();
  const uint64_t end = std::min(f.length, off + len);
  const uint64_t b0 = off / kBs, b1 = (end - 1) / kBs;
  const uint64_t from = b0 * kBs, to = std::min(f.length, (b1 + 1) * kBs);
  std::vector<uint32_t> crcs;
  if (Status s = LoadCrcs(f, b0, b1 - b0 + 1, &crcs); !s.ok()) return s;
  out->resize(to - from);
  size_t got = 0;
  if (Status s = PreadAll(f.data.get(), out->data(), out->size(), f.data_offset() + from, f.name,
                          &got);
      !s.ok())
    return s;
  if (got != out->size()) return Status::Err(EIO, f.name + ": short read at " + std::to_string(from + got));
  for (uint64_t b = b0; b <= b1; ++b) {
    const char* p = out->data() + (b - b0) * kBs;
    uint64_t n = std::min(kBs, to - b * kBs);
    if (Crc32c(p, n) != crcs[b - b0]) return CrcMismatch(f, b);
  }
  *skip = off - from;
  out->resize(end - from);
  return Status::Ok();
}

Status RaiseVersion(ChunkFiles* f, uint64_t version) {
  if (version <= f->header.version) return Status::Ok();
  f->header.version = version;
  return WriteHeader(*f);
}

}  // namespace dos::chunk
