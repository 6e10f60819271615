// Cluster settings: parsing and range checks, storage across a reopen,
// version bumps; membership administration on a real database.
#include "daemon/meta/config.h"

#include "daemon/meta/membership.h"
#include "daemon/meta/repair.h"
#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

TEST(ConfigParseTest, AcceptsNumbersAndUnits) {
  EXPECT_EQ(*Config::Parse("replication", "2"), 2u);
  EXPECT_EQ(*Config::Parse("chunk_size", "1M"), 1u << 20);
  EXPECT_EQ(*Config::Parse("chunk_size", "128K"), 128u << 10);
  EXPECT_EQ(*Config::Parse("heartbeat_timeout", "5s"), 5000u);
  EXPECT_EQ(*Config::Parse("heartbeat_timeout", "1500"), 1500u);
  EXPECT_EQ(*Config::Parse("heartbeat_timeout", "2m"), 120000u);
  EXPECT_EQ(*Config::Parse("repair_bandwidth", "0"), 0u);
  EXPECT_EQ(*Config::Parse("repair_bandwidth", "10M"), 10u << 20);
}

TEST(ConfigParseTest, RejectsBadValues) {
  EXPECT_EQ(Config::Parse("nope", "1").status().err(), ENOENT);
  for (auto [key, text] : std::vector<std::pair<std::string, std::string>>{
           {"replication", "0"},
           {"replication", "17"},
           {"replication", "two"},
           {"replication", ""},
           {"replication", "-1"},
           {"replication", "3x"},
           {"chunk_size", "100000"},  // not a multiple of 64K
           {"chunk_size", "32K"},
           {"chunk_size", "512M"},
           {"chunk_size", "4s"},         // a time unit on a size
           {"heartbeat_timeout", "10"},  // below 1 s
           {"heartbeat_timeout", "5M"},  // a size unit on a time
           {"repair_bandwidth", "99999999999999999999"}})
    EXPECT_EQ(Config::Parse(key, text).status().err(), EINVAL) << key << "=" << text;
}

class ConfigTest : public MetaTest {};

TEST_F(ConfigTest, SetIsStoredAndVersioned) {
  ConfigDefaults d;
  d.replication = 3;
  {
    Config c(db_.get(), d);
    ASSERT_TRUE(c.Load().ok());
    EXPECT_EQ(c.version(), 0u);
    EXPECT_EQ(c.Get("replication"), 3u);
    ASSERT_TRUE(c.Set("replication", "2").ok());
    ASSERT_TRUE(c.Set("chunk_size", "1M").ok());
    EXPECT_EQ(c.Set("replication", "0").err(), EINVAL);
    EXPECT_EQ(c.Get("replication"), 2u);
    EXPECT_EQ(c.version(), 2u);
  }
  Reopen();
  Config c(db_.get(), d);
  ASSERT_TRUE(c.Load().ok());
  EXPECT_EQ(c.Get("replication"), 2u);
  EXPECT_EQ(c.Get("chunk_size"), 1u << 20);
  EXPECT_EQ(c.Get("heartbeat_timeout"), d.heartbeat_timeout_ms);  // never set: the default
  EXPECT_EQ(c.version(), 2u);
  EXPECT_EQ(c.Values().at("replication"), "2");
}

class AdminTest : public MetaTest {
 protected:
  int64_t now_ = 1000000;
  std::unique_ptr<Membership> members_;
  void Start() {
    members_ = std::make_unique<Membership>(db_.get(), 10000, [this] { return now_; });
    ASSERT_TRUE(members_->Load().ok());
    for (const char* n : {"a", "b", "c"}) {
      proto::HeartbeatReq hb;
      hb.name = n;
      hb.addr = std::string("tcp://127.0.0.1:1") + n[0];
      hb.capacity = 1ull << 30;
      ASSERT_TRUE(members_->Heartbeat(hb).ok());
    }
  }
  std::vector<std::string> CandidateNames() {
    std::vector<std::string> out;
    Result<std::vector<Candidate>> cands = members_->Candidates();
    EXPECT_TRUE(cands.ok());
    for (const Candidate& c : *cands) out.push_back(c.name + "/" + c.zone);
    return out;
  }
};

TEST_F(AdminTest, CordonDrainAndLabels) {
  Start();
  ASSERT_TRUE(members_->SetAdmin("b", "cordon").ok());
  proto::NodeLabelReq zone{"a", "zone", "z1", false};
  ASSERT_TRUE(members_->SetLabel(zone).ok());
  EXPECT_EQ(CandidateNames(), (std::vector<std::string>{"a/z1", "c/"}));
  EXPECT_EQ(members_->Nodes()[1].state, "CORDONED");
  ASSERT_TRUE(members_->SetAdmin("c", "drain").ok());
  EXPECT_EQ(members_->Nodes()[2].state, "DRAINED");  // holds no replica
  EXPECT_TRUE(members_->IsDraining("c"));
  ASSERT_TRUE(members_->SetAdmin("b", "uncordon").ok());
  EXPECT_EQ(CandidateNames(), (std::vector<std::string>{"a/z1", "b/"}));
  EXPECT_EQ(members_->SetAdmin("zz", "cordon").err(), ENOENT);
  // Kept across a restart of meta.
  members_ = std::make_unique<Membership>(db_.get(), 10000, [this] { return now_; });
  ASSERT_TRUE(members_->Load().ok());
  EXPECT_TRUE(members_->IsDraining("c"));
  EXPECT_EQ(members_->ZoneOf("a"), "z1");
}

TEST_F(AdminTest, RemoveRefusesTheOnlyCopyAndJoinNeedsAToken) {
  Start();
  ASSERT_TRUE(db_->Exec("INSERT INTO replicas(chunk_id, node, pos) VALUES (7, 'c', 0)").ok());
  Status s = members_->Remove("c");
  EXPECT_EQ(s.err(), EBUSY) << s.ToString();
  ASSERT_TRUE(db_->Exec("INSERT INTO replicas(chunk_id, node, pos) VALUES (7, 'a', 1)").ok());
  ASSERT_TRUE(members_->Remove("c").ok());
  proto::HeartbeatReq hb;
  hb.name = "c";
  hb.addr = "tcp://127.0.0.1:13";
  EXPECT_EQ(members_->Heartbeat(hb).err(), EPERM);
  EXPECT_EQ(members_->Join({"c", hb.addr, "forged"}, false).err(), EACCES);
  auto token = members_->NewToken("d");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(members_->Join({"c", hb.addr, *token}, false).err(), EACCES);  // made for d
  token = members_->NewToken("c");
  ASSERT_TRUE(members_->Join({"c", hb.addr, *token}, false).ok());
  EXPECT_EQ(members_->Join({"c", hb.addr, *token}, false).err(), EACCES);  // used once
  EXPECT_TRUE(members_->Heartbeat(hb).ok());
  // No token: only from a registered node key; a wrong token is wrong for it too.
  EXPECT_EQ(members_->Join({"e", "tcp://127.0.0.1:14", ""}, false).err(), EACCES);
  EXPECT_EQ(members_->Join({"e", "tcp://127.0.0.1:14", "forged"}, true).err(), EACCES);
  ASSERT_TRUE(members_->Join({"e", "tcp://127.0.0.1:14", ""}, true).ok());
  EXPECT_EQ(members_->Join({"c", "tcp://127.0.0.1:15", ""}, true).err(), EEXIST);  // c is UP
}

TEST(DrainPlanTest, DrainingReplicaIsMovedThenDropped) {
  std::mt19937_64 rng(1);
  auto live = [](const std::string&) { return true; };
  auto draining = [](const std::string& n) { return n == "d"; };
  std::vector<ChunkReplicas> chunks{{1, 1, 2, 1 << 20, {"a", "d"}}, {2, 1, 1, 1 << 20, {"b", "d"}}};
  std::vector<Candidate> cands{
      {"a", 1ull << 30, 0, ""}, {"b", 1ull << 30, 0, ""}, {"c", 1ull << 30, 0, ""}};
  auto copies = PlanCopies(chunks, live, cands, 4, {}, rng, draining);
  ASSERT_EQ(copies.size(), 1u);  // chunk 2 (R=1) has its copy on b already
  EXPECT_EQ(copies[0].id, 1u);
  EXPECT_EQ(copies[0].replaces, "d");
  EXPECT_NE(copies[0].target, "a");
  auto drops = PlanDrops(chunks, live, draining, {});
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0], (std::pair<uint64_t, std::string>{2, "d"}));
}

TEST(TokenBucketTest, PacesCopies) {
  TokenBucket b;
  b.set_rate(1 << 20);                  // 1 MiB/s, 1 MiB per copy
  EXPECT_TRUE(b.Take(1 << 20, 1000));   // a full bucket: one second's worth
  EXPECT_FALSE(b.Take(1 << 20, 1000));  // empty
  EXPECT_TRUE(b.Take(1 << 20, 1100));   // 0.1 MiB in: goes 0.9 MiB into debt
  EXPECT_FALSE(b.Take(1 << 20, 1500));  // still in debt
  EXPECT_TRUE(b.Take(1 << 20, 2100));   // paid back: two copies in about two seconds
  TokenBucket open;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(open.Take(1 << 30, 1000));
}

}  // namespace
}  // namespace dos::meta
