// --derived-from / --override-provenance apply to the --portion they follow.
#include "tearline/node/provenance_args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tearline::node {
namespace {

using K = SendArgKind;

TEST(ProvenanceArgsTest, ParsesIdAndOneBasedPortion) {
  auto r = ParseDerivedFrom("3F2A9c1e:2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "3f2a9c1e");
  EXPECT_EQ(r->portion, 1u);
  for (const char* bad : {"3f2a", "3f2a:0", "3f2a:65", "zz12:1", "3f2:1", "3f2a:x", ":1"}) {
    auto b = ParseDerivedFrom(bad);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_EQ(b.status().reason(), "SEND_BAD_DERIVED_FROM") << bad;
    }
  }
}

TEST(ProvenanceArgsTest, EachOptionAppliesToThePortionBeforeIt) {
  const std::vector<K> order = {K::kPortionValue, K::kPortionValue, K::kPortionValue,
                                K::kPortionValue, K::kDerivedFrom,  K::kDerivedFrom,
                                K::kOverride};
  const std::vector<std::string> from = {"aaaa:1", "bbbb:3"};
  const std::vector<std::string> why = {"annex"};
  auto r = AttributeProvenance(order, from, why, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].derived_from.empty());
  ASSERT_EQ((*r)[1].derived_from.size(), 2u);
  EXPECT_EQ((*r)[1].derived_from[1].id, "bbbb");
  EXPECT_EQ((*r)[1].derived_from[1].portion, 2u);
  EXPECT_EQ((*r)[1].override_reason, "annex");
}

TEST(ProvenanceArgsTest, RefusesMisplacedOrInvalidOptions) {
  const std::vector<std::string> from = {"aaaa:1"};
  const std::vector<std::string> none;
  const std::vector<std::string> why = {"x"};
  // Before any --portion.
  auto r = AttributeProvenance(std::vector<K>{K::kDerivedFrom, K::kPortionValue, K::kPortionValue},
                               from, none, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "SEND_BAD_DERIVED_FROM");
  // An override on a portion that is not derived.
  r = AttributeProvenance(std::vector<K>{K::kPortionValue, K::kPortionValue, K::kOverride}, none,
                          why, 1);
  EXPECT_FALSE(r.ok());
  // An unprintable override.
  const std::vector<std::string> bad = {"line\nbreak"};
  r = AttributeProvenance(
      std::vector<K>{K::kPortionValue, K::kPortionValue, K::kDerivedFrom, K::kOverride}, from, bad,
      1);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace tearline::node
