// Re-replication planning (issue 3): which chunk is copied where.
#include "daemon/meta/repair.h"

#include <gtest/gtest.h>

namespace dos::meta {
namespace {

constexpr uint64_t kChunk = 4 << 20;
constexpr uint64_t kGiB = 1ull << 30;

std::vector<Candidate> Up(std::vector<std::string> names) {
  std::vector<Candidate> out;
  for (auto& n : names) out.push_back({n, kGiB, 0, ""});
  return out;
}

TEST(RepairTest, ReplacesADeadReplicaOnAFreeNode) {
  std::mt19937_64 rng(1);
  auto live = [](const std::string& n) { return n != "d"; };
  std::vector<ChunkReplicas> chunks{{7, 3, 3, kChunk, {"a", "d", "b"}}};
  auto copies = PlanCopies(chunks, live, Up({"a", "b", "c"}), 4, {}, rng);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].id, 7u);
  EXPECT_EQ(copies[0].version, 3u);
  EXPECT_EQ(copies[0].source, "a");
  EXPECT_EQ(copies[0].target, "c");
  EXPECT_EQ(copies[0].replaces, "d");
}

TEST(RepairTest, SkipsHealthyBusyHopelessAndUnplaceable) {
  std::mt19937_64 rng(2);
  auto live = [](const std::string& n) { return n != "d"; };
  std::vector<ChunkReplicas> chunks{
      {1, 1, 2, kChunk, {"a", "b"}},       // healthy
      {2, 1, 3, kChunk, {"a", "d"}},       // busy
      {3, 1, 3, kChunk, {"d"}},            // no live replica to copy from
      {4, 1, 3, kChunk, {"a", "b", "c"}},  // healthy
      {5, 1, 4, kChunk, {"a", "b", "c"}},  // wants 4, no fourth UP node
  };
  EXPECT_TRUE(PlanCopies(chunks, live, Up({"a", "b", "c"}), 4, {2}, rng).empty());
}

TEST(RepairTest, AddsMissingReplicasAndSpreads) {
  std::mt19937_64 rng(3);
  auto live = [](const std::string&) { return true; };
  std::vector<ChunkReplicas> chunks{{1, 1, 2, kChunk, {"a"}}, {2, 1, 2, kChunk, {"a"}}};
  auto copies = PlanCopies(chunks, live, Up({"a", "b", "c"}), 4, {}, rng);
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].replaces, "");
  EXPECT_NE(copies[0].target, copies[1].target);  // fewest replicas first
  EXPECT_NE(copies[0].target, "a");
  EXPECT_NE(copies[1].target, "a");
}

TEST(RepairTest, AtMostMaxCopies) {
  std::mt19937_64 rng(4);
  auto live = [](const std::string& n) { return n != "d"; };
  std::vector<ChunkReplicas> chunks;
  for (uint64_t i = 1; i <= 10; ++i) chunks.push_back({i, 1, 2, kChunk, {"a", "d"}});
  EXPECT_EQ(PlanCopies(chunks, live, Up({"a", "b", "c"}), 3, {}, rng).size(), 3u);
}

TEST(RepairTest, SkipsFullTargets) {
  std::mt19937_64 rng(5);
  auto live = [](const std::string&) { return true; };
  std::vector<ChunkReplicas> chunks{{1, 1, 2, kChunk, {"a"}}};
  std::vector<Candidate> cands{{"a", kGiB, 0, ""}, {"b", kChunk - 1, 0, ""}};
  EXPECT_TRUE(PlanCopies(chunks, live, cands, 4, {}, rng).empty());
}

}  // namespace
}  // namespace dos::meta
