// Runs the decoder fuzz target (decode_fuzz.h) on a bounded corpus, without
// clang or libFuzzer: the seed corpus, then random and mutated inputs from a
// fixed seed for at most a few seconds. A crash, a sanitizer report, an
// escaped exception or a round-trip mismatch (abort) fails the test.
//
// Environment, for longer runs by hand:
//   DOS_FUZZ_ITERATIONS  mutated inputs (default 300000)
//   DOS_FUZZ_SECONDS     time cap of the mutation phase (default 4)
//   DOS_FUZZ_SEED        seed of the mutation phase (default 0xd05)
//   DOS_FUZZ_CORPUS_DIR  write the seed corpus there, one file per input (what
//                        run-libfuzzer starts from), and run nothing else
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "tests/fuzz/decode_fuzz.h"

namespace dos::fuzz {
namespace {

uint64_t EnvOr(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

bool Feed(const std::string& in) {
  return RunOne(reinterpret_cast<const uint8_t*>(in.data()), in.size());
}

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus = SeedCorpus();
  return corpus;
}

// ---- mutations: each takes an input (selector byte first) and changes it ----

using Rng = std::mt19937_64;

size_t Pick(Rng& rng, size_t n) { return n == 0 ? 0 : rng() % n; }

std::string RandomBytes(Rng& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void FlipBits(Rng& rng, std::string* s) {
  if (s->size() < 2) return;
  for (int k = 1 + Pick(rng, 8); k > 0; --k)
    (*s)[1 + Pick(rng, s->size() - 1)] ^= static_cast<char>(1 << Pick(rng, 8));
}

void Truncate(Rng& rng, std::string* s) { s->resize(1 + Pick(rng, s->size())); }

void Insert(Rng& rng, std::string* s) {
  s->insert(1 + Pick(rng, s->size()), RandomBytes(rng, 1 + Pick(rng, 16)));
}

void Erase(Rng& rng, std::string* s) {
  if (s->size() < 2) return;
  size_t at = 1 + Pick(rng, s->size() - 1);
  s->erase(at, 1 + Pick(rng, 8));
}

// Bytes that mean the most to a msgpack parser.
void InterestingByte(Rng& rng, std::string* s) {
  static const char kBytes[] = {'\xc1', '\xc0', '\xc2', '\xc3', '\xdc', '\xdd', '\xde', '\xdf',
                                '\xd9', '\xda', '\xdb', '\xc4', '\xc5', '\xc6', '\xc7', '\xc9',
                                '\xd4', '\xd8', '\x8f', '\x9f', '\xbf', '\xff', '\x00', '\x7f'};
  if (s->size() < 2) return;
  (*s)[1 + Pick(rng, s->size() - 1)] = kBytes[Pick(rng, sizeof(kBytes))];
}

// Width in bytes of the length field after header byte h, 0 if h carries no
// length, -1 for the fix types whose length is in h itself.
int LengthWidth(unsigned char h) {
  // clang-format off
  switch (h) {
    case 0xc4: case 0xc7: case 0xd9: return 1;
    case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: return 2;
    case 0xc6: case 0xc9: case 0xdb: case 0xdd: case 0xdf: return 4;
    default: return (h >= 0x80 && h <= 0xbf) ? -1 : 0;
  }
  // clang-format on
}

// Rewrites the length of one string, bin, ext, array or map: to 0, the
// maximum, one more or less, or anything; or widens a fix header to a 32-bit
// one claiming 2^32-1 elements.
void ForgeLength(Rng& rng, std::string* s) {
  std::vector<size_t> heads;
  for (size_t i = 1; i < s->size(); ++i)
    if (LengthWidth(static_cast<unsigned char>((*s)[i])) != 0) heads.push_back(i);
  if (heads.empty()) return;
  const size_t at = heads[Pick(rng, heads.size())];
  const unsigned char h = static_cast<unsigned char>((*s)[at]);
  const int width = LengthWidth(h);
  if (width < 0) {
    if (rng() % 2) {
      const char mask = h >= 0xa0 ? 0x1f : 0x0f;
      (*s)[at] = static_cast<char>((h & ~mask) | (rng() & mask));
    } else {
      const char wide = h >= 0xa0 ? '\xdb' : h >= 0x90 ? '\xdd' : '\xdf';
      s->replace(at, 1, std::string(1, wide) + "\xff\xff\xff\xff");
    }
    return;
  }
  if (at + 1 + width > s->size()) return;
  uint64_t old = 0;
  for (int k = 0; k < width; ++k) old = old << 8 | static_cast<unsigned char>((*s)[at + 1 + k]);
  const uint64_t choices[] = {0, ~0ull, old + 1, old - 1, rng(), 1ull << 20, 65536};
  const uint64_t v = choices[Pick(rng, std::size(choices))];
  for (int k = width - 1, shift = 0; k >= 0; --k, shift += 8)
    (*s)[at + 1 + k] = static_cast<char>(v >> shift);
}

void Splice(Rng& rng, std::string* s) {
  const std::string& other = Corpus()[Pick(rng, Corpus().size())];
  if (other.size() < 2) return;
  s->resize(1 + Pick(rng, s->size()));
  s->append(other, 1 + Pick(rng, other.size() - 1));
}

void Mutate(Rng& rng, std::string* s) {
  using Fn = void (*)(Rng&, std::string*);
  static const Fn kMutations[] = {FlipBits,        Truncate,    Insert,      Erase,
                                  InterestingByte, ForgeLength, ForgeLength, Splice};
  for (int k = 1 + Pick(rng, 3); k > 0; --k) kMutations[Pick(rng, std::size(kMutations))](rng, s);
}

// ---- the tests ------------------------------------------------------------------

TEST(DecodeFuzz, SeedCorpus) {
  if (const char* dir = std::getenv("DOS_FUZZ_CORPUS_DIR")) {
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < Corpus().size(); ++i) {
      std::ofstream f(std::filesystem::path(dir) / ("seed-" + std::to_string(i)), std::ios::binary);
      f.write(Corpus()[i].data(), static_cast<std::streamsize>(Corpus()[i].size()));
    }
    GTEST_SKIP() << "wrote " << Corpus().size() << " seeds to " << dir;
  }
  std::set<uint8_t> decoded;  // targets with at least one input past the decoder
  for (const std::string& in : Corpus())
    if (Feed(in)) decoded.insert(static_cast<uint8_t>(in[0]));
  for (uint8_t t = 0; t < kStructCount; ++t)
    EXPECT_TRUE(decoded.count(t)) << "no seed of " << kStructNames[t] << " decodes";
  EXPECT_TRUE(decoded.count(kFramesTarget)) << "no frame seed parses";
  EXPECT_GT(Corpus().size(), 10000u);
  std::cout << "[ corpus   ] " << Corpus().size() << " seeds\n";
}

// Every op the daemons register has a route here: a new op without one is
// never fuzzed on the daemon path.
TEST(DecodeFuzz, EveryOpHasARoute) {
  std::set<uint32_t> ops;
  for (const OpRoute& r : kOpRoutes) EXPECT_TRUE(ops.insert(r.op).second) << "op " << r.op;
  EXPECT_EQ(ops.size(), 60u);
}

TEST(DecodeFuzz, RandomAndMutated) {
  if (std::getenv("DOS_FUZZ_CORPUS_DIR")) GTEST_SKIP();
  const uint64_t iterations = EnvOr("DOS_FUZZ_ITERATIONS", 300000);
  const auto budget = std::chrono::seconds(EnvOr("DOS_FUZZ_SECONDS", 4));
  Rng rng(EnvOr("DOS_FUZZ_SEED", 0xd05));
  const auto start = std::chrono::steady_clock::now();
  uint64_t n = 0, passed = 0;
  for (; n < iterations; ++n) {
    if (n % 256 == 0 && std::chrono::steady_clock::now() - start > budget) break;
    std::string in;
    if (n % 4 == 0) {
      in = RandomBytes(rng, 1 + Pick(rng, n % 64 == 0 ? 4096 : 64));
    } else {
      in = Corpus()[Pick(rng, Corpus().size())];
      Mutate(rng, &in);
    }
    passed += Feed(in);
  }
  std::cout << "[ fuzzed   ] " << n << " inputs, " << passed << " past the decoders\n";
  EXPECT_GE(n, std::min<uint64_t>(iterations, 5000)) << "far too slow";
}

}  // namespace
}  // namespace dos::fuzz
