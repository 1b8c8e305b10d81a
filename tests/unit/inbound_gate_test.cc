#include "tearline/broker/inbound_gate.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tearline/base/clock.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

class InboundGateTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  SessionSlots slots_{clock_, 4, milliseconds(3000)};
  InboundGate gate_{clock_, slots_, 10, 20};
};

TEST_F(InboundGateTest, EveryFrameSpendsTheNodesBudgetAndRefusalsAreAnsweredOnceASecond) {
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(gate_.Check("usa-1", 5).serve) << i;
  InboundGate::Verdict first = gate_.Check("usa-1", 5);
  EXPECT_FALSE(first.serve);
  EXPECT_TRUE(first.notify);
  EXPECT_EQ(first.why.reason(), "RATE_LIMITED");
  for (int i = 0; i < 100; ++i) {
    InboundGate::Verdict v = gate_.Check("usa-1", 5);
    EXPECT_FALSE(v.serve);
    EXPECT_FALSE(v.notify) << "refusals must be answered sparingly";
  }
  // Another node keeps its own budget.
  EXPECT_TRUE(gate_.Check("gbr-1", 6).serve);
  clock_.Advance(milliseconds(1000));
  int served = 0;
  InboundGate::Verdict after;
  for (int i = 0; i < 30; ++i) {
    after = gate_.Check("usa-1", 5);
    if (after.serve) ++served;
    if (!after.serve) break;
  }
  EXPECT_EQ(served, 10);
  EXPECT_TRUE(after.notify);
  EXPECT_EQ(after.suppressed, 100u);
}

TEST_F(InboundGateTest, AConnectionWithoutASessionSlotIsNotServed) {
  SessionSlots one(clock_, 1, milliseconds(3000));
  InboundGate gate(clock_, one, 10, 20);
  EXPECT_TRUE(gate.Check("usa-1", 5).serve);
  InboundGate::Verdict v = gate.Check("gbr-1", 6);
  EXPECT_FALSE(v.serve);
  EXPECT_TRUE(v.notify);
  EXPECT_EQ(v.why.reason(), "CONNECTION_LIMIT");
  one.Release(5);
  EXPECT_TRUE(gate.Check("gbr-1", 6).serve);
}

}  // namespace
}  // namespace tearline::broker
