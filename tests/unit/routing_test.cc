#include "tearline/broker/routing.h"

#include <gtest/gtest.h>

#include <ctime>

#include "mini_coalition.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::CoalitionPolicy;

// A directory of freshly issued node certificates (real signatures, verified by a trust store):
// the shared in-process coalition's four nodes.
class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(directory_.nodes().size(), 4u); }

  static PortionView Portion(std::uint32_t index, const std::string& label,
                             std::vector<std::string> wrapped_for) {
    PortionView p;
    p.index = index;
    p.label = label;
    p.recipients = std::move(wrapped_for);
    return p;
  }

  testing::MiniCoalition coalition_{static_cast<std::int64_t>(std::time(nullptr))};
  const Directory& directory_ = coalition_.directory();
};

TEST_F(RoutingTest, PerPortionPerRecipientDecisions) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.intended_nations = {"GBR", "JPN", "KOR"};
  v.portions = {Portion(0, "(S//REL TO USA, FVEY)", {"gbr-1", "gbr-2"}),
                Portion(1, "(S//REL TO USA, JPN)", {"jpn-1"}), Portion(2, "(S//NF)", {})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->recipients.size(), 4u);  // gbr-1, gbr-2, jpn-1, KOR (no node)

  const RecipientPlan& gbr1 = plan->recipients[0];
  EXPECT_EQ(gbr1.node_id, "gbr-1");
  EXPECT_EQ(gbr1.portions, std::vector<std::uint32_t>{0});
  EXPECT_EQ(gbr1.decisions[1].reason, "NOT_RELEASABLE");
  EXPECT_EQ(gbr1.decisions[2].reason, "NOFORN");

  // gbr-2 is only CONFIDENTIAL: the SECRET portion is above its clearance.
  const RecipientPlan& gbr2 = plan->recipients[1];
  EXPECT_EQ(gbr2.node_id, "gbr-2");
  EXPECT_TRUE(gbr2.portions.empty());
  EXPECT_EQ(gbr2.decisions[0].reason, "ABOVE_CLEARANCE");

  const RecipientPlan& jpn = plan->recipients[2];
  EXPECT_EQ(jpn.portions, std::vector<std::uint32_t>{1});
  EXPECT_EQ(jpn.decisions[0].reason, "NOT_RELEASABLE");

  const RecipientPlan& kor = plan->recipients[3];
  EXPECT_EQ(kor.nation, "KOR");
  EXPECT_EQ(kor.reason, "NO_NODE");

  auto outcomes = ToOutcomes(*plan);
  EXPECT_EQ(outcomes[0].state, schema::DeliveryState::Delivered);
  EXPECT_EQ(outcomes[1].state, schema::DeliveryState::Denied);
  EXPECT_EQ(outcomes[3].state, schema::DeliveryState::Denied);
}

TEST_F(RoutingTest, BrokerWithholdsWhatThePolicyDeniesEvenIfWrapped) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.intended_nations = {"JPN"};
  // A misbehaving sender wrapped a FVEY portion for Japan: the broker still withholds it.
  v.portions = {Portion(0, "(S//REL TO USA, FVEY)", {"jpn-1"})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->recipients.size(), 1u);
  EXPECT_TRUE(plan->recipients[0].portions.empty());
  EXPECT_EQ(plan->recipients[0].decisions[0].reason, "NOT_RELEASABLE");
}

TEST_F(RoutingTest, ReleasableButNotEncryptedIsExplained) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.intended_nations = {"GBR"};
  v.portions = {Portion(0, "(C//REL TO USA, GBR)", {"gbr-1"})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->recipients[0].portions, std::vector<std::uint32_t>{0});
  // gbr-2 is cleared and the label releases to GBR, but the sender encrypted only for gbr-1.
  EXPECT_TRUE(plan->recipients[1].portions.empty());
  EXPECT_EQ(plan->recipients[1].decisions[0].reason, "NOT_ENCRYPTED_FOR_RECIPIENT");
}

TEST_F(RoutingTest, OriginatorNodeAndUnknownNations) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.intended_nations = {"USA", "XYZ"};
  v.portions = {Portion(0, "(S//REL TO USA, GBR)", {})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->recipients.size(), 2u);
  EXPECT_EQ(plan->recipients[0].reason, "NO_NODE");  // usa-1 is the originator itself
  EXPECT_EQ(plan->recipients[1].reason, "UNKNOWN_NATION");
}

TEST_F(RoutingTest, InvalidLabelRejectsTheReport) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.intended_nations = {"GBR"};
  v.portions = {Portion(0, "(S//REL TO USA, XYZ)", {"gbr-1"})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().reason(), "ROUTING_BAD_LABEL");
}

// Every intended nation gets an outcome (a node, NO_NODE, UNKNOWN_NATION); a report naming none
// would be accepted and reach nobody without one, so it is refused.
TEST_F(RoutingTest, AReportNamingNoNationIsRefused) {
  ReportView v;
  v.originator = "usa-1";
  v.originator_nation = "USA";
  v.portions = {Portion(0, "(S//REL TO USA, GBR)", {"gbr-1"})};
  auto plan = PlanRouting(v, directory_, CoalitionPolicy());
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().reason(), "ROUTING_NO_NATIONS");
  EXPECT_EQ(plan.status().code(), Code::kInvalidArgument);
  v.intended_nations = {"GBR"};
  EXPECT_TRUE(PlanRouting(v, directory_, CoalitionPolicy()).ok());
}

}  // namespace
}  // namespace tearline::broker
