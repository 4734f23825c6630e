// SPDX-License-Identifier: GPL-3.0-or-later
// Sweep files: expansion of the grid in a fixed order, overrides by dotted path, every point
// validated, shards.

#include "sweep/Sweep.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

using namespace mode;
using json = nlohmann::json;

TEST(Sweep, ExpandsTheGridLastFieldFastestAndNamesEachRun) {
    auto s = Sweep::fromJson(json::parse(R"({"name": "s", "base": {"train": {"epochs": 3}},
                                             "grid": {"loss.alpha": [0, 0.1, 1], "train.seed": [1, 2]}})"),
                             "s.json");
    EXPECT_EQ(s.size(), 6u);
    auto points = s.expand();
    ASSERT_EQ(points.size(), 6u);
    EXPECT_EQ(points[0].config.name, "s alpha=0 seed=1");
    EXPECT_EQ(points[1].config.name, "s alpha=0 seed=2");
    EXPECT_EQ(points[5].config.name, "s alpha=1 seed=2");
    EXPECT_DOUBLE_EQ(points[3].config.loss.alpha, 0.1);
    EXPECT_EQ(points[3].config.train.seed, 2u);
    for (const auto& p : points)
        EXPECT_EQ(p.config.train.epochs, 3) << "the base applies to every point";
    EXPECT_EQ(points[4].index, 4u);
    EXPECT_EQ(points[4].values[0], (std::pair<std::string, std::string>{"loss.alpha", "1"}));
}

TEST(Sweep, AnyConfigFieldAndBaseFile) {
    test::TempDir dir;
    dir.file("base.json", R"({"model": {"experts": 6}, "data": {"path": "d.csv"}})");
    dir.file("d.csv", "a,y\n1,p\n2,q\n");
    dir.file(
        "sweep.json",
        R"({"base_file": "base.json", "grid": {"model.gate": ["dense", "topk"], "data.val_fraction": [0.2]}})");
    auto s = Sweep::fromFile(dir / "sweep.json");
    auto points = s.expand();
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[1].config.model.gate, "topk");
    EXPECT_EQ(points[1].config.model.experts, 6);
    EXPECT_DOUBLE_EQ(points[0].config.data.valFraction, 0.2);
    EXPECT_EQ(points[0].config.data.path, dir / "d.csv")
        << "paths are relative to the files that name them";
    EXPECT_EQ(points[0].config.name, "sweep gate=dense val_fraction=0.2")
        << "the name defaults to the file's";
}

TEST(Sweep, ABadPointOrFileIsRefusedWithWhatAndWhere) {
    auto error = [](const std::string& text) {
        try {
            Sweep::fromJson(json::parse(text), "s.json");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_CONTAINS(error(R"({"grid": {"model.experts": [2, 0]}})"), "point 1");
    EXPECT_CONTAINS(error(R"({"grid": {"model.experts": [2, 0]}})"), "model.experts");
    EXPECT_CONTAINS(error(R"({"grid": {"loss.alpah": [1]}})"), "alpah");
    EXPECT_CONTAINS(error(R"({"grid": {}})"), "grid must be");
    EXPECT_CONTAINS(error(R"({"grid": {"loss.alpha": []}})"), "non-empty list");
    EXPECT_CONTAINS(error(R"({"grid": {"loss.alpha": [1]}, "extra": 1})"), "unknown key 'extra'");
    EXPECT_CONTAINS(error(R"({"grid": {"loss.alpha.x": [1]}})"), "'loss.alpha' has the wrong type");
    EXPECT_CONTAINS(error(R"({"base": {"loss": {"alpha": 1}}, "grid": {"loss.alpha.x": [1]}})"),
                    "inside a value");
}

TEST(Sweep, ShardsSplitThePointsWithoutOverlap) {
    auto s = Shard::parse("1/3");
    EXPECT_EQ(s.index, 1u);
    EXPECT_EQ(s.count, 3u);
    EXPECT_TRUE(s.contains(4));
    EXPECT_FALSE(s.contains(5));
    EXPECT_THROW(Shard::parse("3/3"), ConfigError);
    EXPECT_THROW(Shard::parse("1of3"), ConfigError);
    EXPECT_THROW(Shard::parse("1/0"), ConfigError);
    EXPECT_THROW(Shard::parse("-1/3"), ConfigError);
}

// A sweep can vary model.kind: the baselines beside the mixture, each point validated (a baseline
// with distillation is refused naming the point).
TEST(Sweep, CanVaryTheModelKind) {
    auto s = Sweep::fromJson(json::parse(R"({"name": "b", "base": {"loss": {"alpha": 0}},
                                             "grid": {"model.kind": ["moe", "dense", "ensemble"]}})"),
                             "b.json");
    const auto points = s.expand();
    ASSERT_EQ(points.size(), 3u);
    EXPECT_EQ(points[1].config.model.kind, "dense");
    EXPECT_EQ(points[2].config.name, "b kind=ensemble");
    try {
        Sweep::fromJson(json::parse(R"({"name": "b", "grid": {"model.kind": ["moe", "dense"]}})"),
                        "b.json")
            .expand();
        FAIL() << "a dense point with the default alpha 0.1 was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("point 1 (b kind=dense): loss.alpha: the dense "
                                             "baseline has no experts to distil among"),
                  std::string::npos)
            << e.what();
    }
}
