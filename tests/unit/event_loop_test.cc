#include "tearline/net/event_loop.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace tearline::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(EventLoopTest, TimersFireOnTheInjectedClockOnly) {
  FakeClock clock;
  EventLoop loop(clock);
  int fired = 0;
  loop.AddTimer(seconds(5), "t", [&] { ++fired; });
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(seconds(4));
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(seconds(1));
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 1);
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 1);  // Next due one interval after it fired.
}

TEST(EventLoopTest, AStalledLoopFiresOnceNotOncePerMissedInterval) {
  FakeClock clock;
  EventLoop loop(clock);
  int fired = 0;
  loop.AddTimer(seconds(1), "t", [&] { ++fired; });
  clock.Advance(seconds(30));
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop.TimeToNextTimer(milliseconds(5000)), milliseconds(1000));
}

TEST(EventLoopTest, HandlersMayCancelTimersIncludingTheirOwn) {
  FakeClock clock;
  EventLoop loop(clock);
  std::vector<int> order;
  EventLoop::TimerId second = 0;
  EventLoop::TimerId first = 0;
  first = loop.AddTimer(seconds(1), "first", [&] {
    order.push_back(1);
    loop.CancelTimer(first);
    loop.CancelTimer(second);
  });
  second = loop.AddTimer(seconds(1), "second", [&] { order.push_back(2); });
  clock.Advance(seconds(1));
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  clock.Advance(seconds(1));
  ASSERT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(order, std::vector<int>{1});
}

TEST(EventLoopTest, AThrowingHandlerDoesNotStopTheLoop) {
  FakeClock clock;
  EventLoop loop(clock);
  int fired = 0;
  loop.AddTimer(seconds(1), "bad", [] { throw std::runtime_error("boom"); });
  loop.AddTimer(seconds(1), "good", [&] { ++fired; });
  clock.Advance(seconds(1));
  EXPECT_TRUE(loop.RunOnce(milliseconds(0)).ok());
  EXPECT_EQ(fired, 1);
}

TEST(EventLoopTest, WaitIsBoundedByTheNextTimer) {
  FakeClock clock;
  EventLoop loop(clock);
  EXPECT_EQ(loop.TimeToNextTimer(milliseconds(200)), milliseconds(200));
  loop.AddTimer(milliseconds(50), "t", [] {});
  EXPECT_EQ(loop.TimeToNextTimer(milliseconds(200)), milliseconds(50));
  clock.Advance(milliseconds(60));
  EXPECT_EQ(loop.TimeToNextTimer(milliseconds(200)), milliseconds(0));
}

TEST(EventLoopTest, ReadersAreCalledWhenTheirSocketIsReadable) {
  FakeClock clock;
  Context ctx;
  const auto path = std::filesystem::temp_directory_path() /
                    ("tearline-loop-" + std::to_string(::getpid()) + ".sock");
  auto server = BindLocalRouter(ctx, path, 1 << 20);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = ConnectLocalDealer(ctx, path, 1 << 20, milliseconds(2000));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EventLoop loop(clock);
  std::vector<std::string> got;
  loop.AddReader(*server, "server", [&] {
    while (auto parts = server->TryReceive()) got.push_back((*parts)[1].str());
  });
  ASSERT_EQ(client->SendWaiting("hello"), SendResult::kSent);
  for (int i = 0; i < 50 && got.empty(); ++i) ASSERT_TRUE(loop.RunOnce(milliseconds(100)).ok());
  EXPECT_EQ(got, std::vector<std::string>{"hello"});
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tearline::net
