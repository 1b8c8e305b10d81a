#include "tearline/base/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "prometheus_parser.h"

namespace tearline {
namespace {

using testing::ParsedMetrics;
using testing::ParsePrometheusText;

TEST(PrometheusTextTest, RendersHelpTypeAndSamplesInNameAndLabelOrder) {
  PrometheusText page;
  ASSERT_TRUE(page.Declare("zeta_total", MetricType::kCounter, "Last by name.").ok());
  ASSERT_TRUE(page.Declare("alpha", MetricType::kGauge, "First by name.").ok());
  ASSERT_TRUE(page.Set("alpha", {{"node", "b"}}, 2).ok());
  ASSERT_TRUE(page.Set("alpha", {{"node", "a"}}, 1).ok());
  ASSERT_TRUE(page.Set("zeta_total", {}, 7).ok());
  EXPECT_EQ(page.Render(),
            "# HELP alpha First by name.\n"
            "# TYPE alpha gauge\n"
            "alpha{node=\"a\"} 1\n"
            "alpha{node=\"b\"} 2\n"
            "# HELP zeta_total Last by name.\n"
            "# TYPE zeta_total counter\n"
            "zeta_total 7\n");
}

TEST(PrometheusTextTest, OutputDoesNotDependOnInsertionOrderOrLabelOrder) {
  PrometheusText one;
  PrometheusText two;
  for (PrometheusText* p : {&one, &two}) {
    ASSERT_TRUE(p->Declare("m", MetricType::kGauge, "h").ok());
    ASSERT_TRUE(p->Declare("a", MetricType::kGauge, "h").ok());
  }
  ASSERT_TRUE(one.Set("m", {{"x", "1"}, {"y", "2"}}, 1).ok());
  ASSERT_TRUE(one.Set("m", {{"x", "0"}, {"y", "9"}}, 2).ok());
  ASSERT_TRUE(two.Set("m", {{"y", "9"}, {"x", "0"}}, 2).ok());
  ASSERT_TRUE(two.Set("m", {{"y", "2"}, {"x", "1"}}, 1).ok());
  EXPECT_EQ(one.Render(), two.Render());
  EXPECT_NE(one.Render().find("m{x=\"0\",y=\"9\"} 2\nm{x=\"1\",y=\"2\"} 1\n"), std::string::npos)
      << one.Render();
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelpSoEveryLineStaysValid) {
  PrometheusText page;
  ASSERT_TRUE(page.Declare("m", MetricType::kGauge, "back\\slash and\nnewline").ok());
  const std::string hostile = "a\\b\"c\nd} 1\nfake_metric 2";
  ASSERT_TRUE(page.Set("m", {{"node", hostile}}, 3).ok());
  const std::string text = page.Render();
  EXPECT_NE(text.find("# HELP m back\\\\slash and\\nnewline\n"), std::string::npos) << text;
  EXPECT_NE(text.find("m{node=\"a\\\\b\\\"c\\nd} 1\\nfake_metric 2\"} 3\n"), std::string::npos)
      << text;
  ParsedMetrics parsed;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(text, &parsed, &error)) << error << "\n" << text;
  ASSERT_EQ(parsed.samples.size(), 1u) << "a label value must not make a second sample";
  EXPECT_EQ(parsed.samples[0].labels.at("node"), hostile);
  EXPECT_EQ(parsed.help.at("m"), "back\\slash and\nnewline");
  EXPECT_EQ(EscapeMetricLabelValue("plain"), "plain");
}

TEST(PrometheusTextTest, RefusesNamesThatBreakTheRules) {
  PrometheusText page;
  for (const char* bad : {"", "1abc", "a-b", "a b", "a{b}", "é"}) {
    Status st = page.Declare(bad, MetricType::kGauge, "h");
    EXPECT_EQ(st.reason(), "METRIC_INVALID") << bad;
  }
  EXPECT_TRUE(page.Declare("ns:sub_name_1", MetricType::kGauge, "colons are allowed").ok());
  EXPECT_TRUE(IsValidMetricName("_x"));
  ASSERT_TRUE(page.Declare("g", MetricType::kGauge, "h").ok());
  for (const char* bad : {"", "__reserved", "1x", "a:b", "a-b"}) {
    EXPECT_EQ(page.Set("g", {{bad, "v"}}, 1).reason(), "METRIC_INVALID") << bad;
  }
  EXPECT_EQ(page.Set("g", {{"x", "1"}, {"x", "2"}}, 1).reason(), "METRIC_INVALID")
      << "a label twice in one sample";
  EXPECT_EQ(page.Set("undeclared", {}, 1).reason(), "METRIC_INVALID");
  EXPECT_EQ(page.Declare("g", MetricType::kCounter, "h").reason(), "METRIC_INVALID")
      << "a family keeps its type";
  EXPECT_TRUE(page.Declare("g", MetricType::kGauge, "again").ok());
  // Nothing invalid reached the page.
  ParsedMetrics parsed;
  std::string error;
  EXPECT_TRUE(ParsePrometheusText(page.Render(), &parsed, &error)) << error;
  EXPECT_TRUE(parsed.samples.empty());
}

TEST(PrometheusTextTest, CountersNeverGoNegativeAndAddAccumulates) {
  PrometheusText page;
  ASSERT_TRUE(page.Declare("c_total", MetricType::kCounter, "h").ok());
  EXPECT_EQ(page.Set("c_total", {}, -1).reason(), "METRIC_INVALID");
  EXPECT_EQ(page.Set("c_total", {}, std::nan("")).reason(), "METRIC_INVALID");
  ASSERT_TRUE(page.Add("c_total", {{"reason", "X"}}, 2).ok());
  ASSERT_TRUE(page.Add("c_total", {{"reason", "X"}}, 3).ok());
  EXPECT_EQ(page.Add("c_total", {{"reason", "X"}}, -10).reason(), "METRIC_INVALID");
  EXPECT_NE(page.Render().find("c_total{reason=\"X\"} 5\n"), std::string::npos) << page.Render();
  ASSERT_TRUE(page.Declare("g", MetricType::kGauge, "h").ok());
  EXPECT_TRUE(page.Set("g", {}, -2.5).ok()) << "a gauge may be negative";
}

TEST(PrometheusTextTest, FormatsValuesAsTheFormatSpellsThem) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(1.5), "1.5");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(9007199254740991.0), "9007199254740991");
}

TEST(PrometheusTextTest, StrictParserRefusesWhatTheFormatDoesNotAllow) {
  // The test's parser must be able to fail, or the integration test proves nothing.
  ParsedMetrics parsed;
  std::string error;
  for (const char* bad : {
           "m 1\n",                                                     // no TYPE
           "# TYPE m gauge\nm 1",                                       // no final newline
           "# TYPE m gauge\n\nm 1\n",                                   // blank line
           "# TYPE m gauge\nm{a=\"x\\t\"} 1\n",                         // unknown escape
           "# TYPE m gauge\nm{a=\"x\",a=\"y\"} 1\n",                    // label twice
           "# TYPE m gauge\nm 1\nm 2\n",                                // duplicate sample
           "# TYPE m gauge\nm one\n",                                   // bad value
           "# TYPE c counter\nc -1\n",                                  // negative counter
           "# TYPE m gauge\n# TYPE n gauge\nm 1\nn 1\nm{a=\"1\"} 1\n",  // not contiguous
           "# TYPE m gauge\n# TYPE m gauge\nm 1\n",                     // second TYPE
           "# just a comment\n",                                        // other comment
           "# TYPE m gauge\nm{__a=\"1\"} 1\n",                          // reserved label
       }) {
    EXPECT_FALSE(ParsePrometheusText(bad, &parsed, &error)) << bad;
  }
  EXPECT_TRUE(ParsePrometheusText("# TYPE m gauge\nm{a=\"1\"} +Inf 123\n", &parsed, &error))
      << error;
}

}  // namespace
}  // namespace tearline
