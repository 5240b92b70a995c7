// The config field lists: JSON round trip, flag text, and errors that name the field.
#include <gtest/gtest.h>

#include "wbary/barycenter/methods.h"
#include "wbary/barycenter/neural_barycenter_config.h"
#include "wbary/error.h"

namespace wbary::config {
namespace {

TEST(FieldList, JsonRoundTripOfEveryMethodsConfig) {
  for (const auto& m : barycenter::methods()) {
    FieldList a = m.default_config();
    const nlohmann::json j = a.to_json();
    EXPECT_EQ(j.size(), a.fields().size()) << m.name;  // no two fields share a key
    FieldList b = m.default_config();
    b.set_text("seed", "7");
    EXPECT_NE(b.to_json(), j);
    b.update(j);
    EXPECT_EQ(b.to_json(), j) << m.name;
  }
}

TEST(FieldList, SetTextParsesEachTypeAndNamesTheFlagOnError) {
  barycenter::NeuralBarycenterConfig c;
  FieldList f = barycenter::fields(c);
  f.set_text("batch_size", "256");
  f.set_text("lr_f", "1e-4");
  f.set_text("quadratic_skip", "false");
  f.set_text("g_convexity", "clamp");
  f.set_text("dtype", "float64");
  EXPECT_EQ(c.batch_size, 256);
  EXPECT_DOUBLE_EQ(c.lr_f, 1e-4);
  EXPECT_FALSE(c.potential.quadratic_skip);
  EXPECT_EQ(c.g_convexity, barycenter::Convexity::kClamp);
  EXPECT_EQ(c.dtype, "float64");
  auto message = [&](const std::string& name, const std::string& text) {
    try {
      f.set_text(name, text);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("batch_size", "2.5").find("--batch-size: got '2.5', expected an integer"), std::string::npos);
  EXPECT_NE(message("seed", "-1").find("--seed"), std::string::npos);
  EXPECT_NE(message("lr_f", "fast").find("expected a number"), std::string::npos);
  EXPECT_NE(message("quadratic_skip", "maybe").find("true or false"), std::string::npos);
  EXPECT_NE(message("g_convexity", "soft").find("'clamp', 'penalty'"), std::string::npos);
  EXPECT_NE(message("no_such_field", "1").find("--no-such-field"), std::string::npos);
}

TEST(FieldList, UpdateRefusesUnknownKeysAndWrongTypes) {
  barycenter::NeuralBarycenterConfig c;
  FieldList f = barycenter::fields(c);
  EXPECT_THROW(f.update({{"batchsize", 3}}), InvalidArgument);
  EXPECT_THROW(f.update({{"batch_size", "3"}}), InvalidArgument);
  EXPECT_THROW(f.update({{"batch_size", 2.5}}), InvalidArgument);
  EXPECT_THROW(f.update({{"seed", -1}}), InvalidArgument);
  EXPECT_THROW(f.update({{"engine", "fast"}}), InvalidArgument);
  EXPECT_THROW(f.update(nlohmann::json::array()), InvalidArgument);
  f.update({{"lr_f", 1}});  // an integer is a valid double
  EXPECT_DOUBLE_EQ(c.lr_f, 1.0);
}

TEST(FieldList, FlagNamesFollowTheJsonKeys) {
  EXPECT_EQ(flag_name("lr_decay_every"), "--lr-decay-every");
  EXPECT_THROW(barycenter::find_method("wgan"), InvalidArgument);
}

}  // namespace
}  // namespace wbary::config
