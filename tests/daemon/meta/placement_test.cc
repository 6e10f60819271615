// Placement: distinct nodes, even spread, full nodes skipped.
#include "daemon/meta/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace dos::meta {
namespace {

constexpr uint64_t kChunk = 4 << 20;
constexpr uint64_t kGiB = 1ull << 30;

TEST(PlacementTest, DistinctNodes) {
  std::mt19937_64 rng(1);
  std::vector<Candidate> nodes{{"a", kGiB, 0, ""}, {"b", kGiB, 0, ""}, {"c", kGiB, 0, ""}};
  auto picked = Place(nodes, 3, kChunk, rng);
  ASSERT_EQ(picked.size(), 3u);
  EXPECT_EQ(std::set<std::string>(picked.begin(), picked.end()).size(), 3u);
  EXPECT_EQ(Place(nodes, 5, kChunk, rng).size(), 3u);  // no more nodes than there are
  EXPECT_TRUE(Place({}, 3, kChunk, rng).empty());
}

TEST(PlacementTest, FewestReplicasFirst) {
  std::mt19937_64 rng(2);
  std::vector<Candidate> nodes{{"a", kGiB, 10, ""}, {"b", kGiB, 3, ""}, {"c", kGiB, 7, ""}};
  EXPECT_EQ(Place(nodes, 2, kChunk, rng), (std::vector<std::string>{"b", "c"}));
}

TEST(PlacementTest, SkipsFullNodes) {
  std::mt19937_64 rng(3);
  std::vector<Candidate> nodes{{"a", kChunk - 1, 0, ""}, {"b", kGiB, 9, ""}, {"c", 0, 0, ""}};
  EXPECT_EQ(Place(nodes, 3, kChunk, rng), (std::vector<std::string>{"b"}));
}

// 100 MiB over 5 nodes with R=1: every node gets its share.
TEST(PlacementTest, SpreadsAFileOverAllNodes) {
  std::mt19937_64 rng(4);
  std::map<std::string, uint64_t> count{{"n1", 0}, {"n2", 0}, {"n3", 0}, {"n4", 0}, {"n5", 0}};
  for (int chunk = 0; chunk < 25; ++chunk) {
    std::vector<Candidate> nodes;
    for (auto& [name, n] : count) nodes.push_back({name, kGiB, n, ""});
    auto picked = Place(nodes, 1, kChunk, rng);
    ASSERT_EQ(picked.size(), 1u);
    count[picked[0]]++;
  }
  for (auto& [name, n] : count) EXPECT_EQ(n, 5u) << name;
}

TEST(PlacementTest, TiesBrokenAtRandom) {
  std::mt19937_64 rng(5);
  std::set<std::string> firsts;
  std::vector<Candidate> nodes{{"a", kGiB, 0, ""}, {"b", kGiB, 0, ""}, {"c", kGiB, 0, ""}};
  for (int i = 0; i < 50; ++i) firsts.insert(Place(nodes, 1, kChunk, rng)[0]);
  EXPECT_EQ(firsts.size(), 3u);
}

// Two zones of two nodes each, R=2: every chunk gets one replica per zone,
// even when one zone's nodes hold the fewest replicas.
TEST(PlacementTest, SpreadsOverZones) {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 50; ++i) {
    std::vector<Candidate> nodes{{"a1", kGiB, 0, "a"}, {"a2", kGiB, 0, "a"},
                                 {"b1", kGiB, 5, "b"}, {"b2", kGiB, 6, "b"}};
    auto picked = Place(nodes, 2, kChunk, rng);
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_NE(picked[0][0], picked[1][0]) << picked[0] << " " << picked[1];
  }
}

// More replicas than zones: one per zone first, then the rest anywhere.
TEST(PlacementTest, MoreReplicasThanZones) {
  std::mt19937_64 rng(7);
  std::vector<Candidate> nodes{{"a1", kGiB, 0, "a"}, {"a2", kGiB, 1, "a"}, {"b1", kGiB, 9, "b"}};
  auto picked = Place(nodes, 3, kChunk, rng);
  ASSERT_EQ(picked.size(), 3u);
  EXPECT_EQ(picked[0], "a1");
  EXPECT_EQ(picked[1], "b1");
  EXPECT_EQ(picked[2], "a2");
}

// A repair copy avoids the zones its chunk's replicas are in already.
TEST(PlacementTest, AvoidsUsedZones) {
  std::mt19937_64 rng(8);
  std::vector<Candidate> nodes{{"a2", kGiB, 0, "a"}, {"b2", kGiB, 3, "b"}, {"c1", kGiB, 7, "c"}};
  EXPECT_EQ(Place(nodes, 1, kChunk, rng, {"a", "b"}), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(Place(nodes, 1, kChunk, rng, {"a", "b", "c"}), (std::vector<std::string>{"a2"}));
}

}  // namespace
}  // namespace dos::meta
