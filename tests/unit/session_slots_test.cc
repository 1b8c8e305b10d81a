#include "tearline/broker/session_slots.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tearline/base/clock.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

TEST(SessionSlotsTest, ALimitOfOneAdmitsAgainAfterTheFirstSessionDisconnects) {
  FakeClock clock;
  SessionSlots slots(clock, 1, milliseconds(3000));
  ASSERT_TRUE(slots.TryReserve());
  EXPECT_FALSE(slots.TryReserve()) << "a second concurrent client while one is reserved";
  EXPECT_TRUE(slots.Bind(15));
  EXPECT_TRUE(slots.Bind(15));  // Later frames of the same connection.
  EXPECT_FALSE(slots.TryReserve()) << "a second concurrent session";
  EXPECT_EQ(slots.served(), 1u);
  slots.Release(15);
  EXPECT_EQ(slots.served(), 0u);
  ASSERT_TRUE(slots.TryReserve());
  EXPECT_TRUE(slots.Bind(15));  // The kernel reused the descriptor for the new connection.
  EXPECT_EQ(slots.served(), 1u);
}

TEST(SessionSlotsTest, ReleasingAnUnknownDescriptorChangesNothing) {
  FakeClock clock;
  SessionSlots slots(clock, 2, milliseconds(3000));
  ASSERT_TRUE(slots.TryReserve());
  ASSERT_TRUE(slots.Bind(7));
  slots.Release(9);  // A refused client's connection closing.
  slots.Release(0);  // What the handshake event of libzmq 4.3 carries.
  EXPECT_EQ(slots.served(), 1u);
}

TEST(SessionSlotsTest, AReservationLapsesAndASilentClientIsServedOnlyIfASlotIsFree) {
  FakeClock clock;
  SessionSlots slots(clock, 1, milliseconds(3000));
  ASSERT_TRUE(slots.TryReserve());  // Authenticated, then silent.
  clock.Advance(milliseconds(3000));
  ASSERT_TRUE(slots.TryReserve()) << "the silent client's reservation lapsed";
  ASSERT_TRUE(slots.Bind(20));
  EXPECT_FALSE(slots.Bind(21)) << "the silent client speaks, but the one slot is taken";
  EXPECT_EQ(slots.served(), 1u);
  slots.Release(20);
  EXPECT_TRUE(slots.Bind(21));
}

TEST(SessionSlotsTest, ServedPlusReservedNeverExceedsTheLimit) {
  FakeClock clock;
  SessionSlots slots(clock, 3, milliseconds(3000));
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += slots.TryReserve() ? 1 : 0;
  EXPECT_EQ(admitted, 3);
  EXPECT_TRUE(slots.Bind(1));
  EXPECT_TRUE(slots.Bind(2));
  EXPECT_EQ(slots.served() + slots.reserved(), 3u);
  EXPECT_FALSE(slots.TryReserve());
}

}  // namespace
}  // namespace tearline::broker
