#include "wbary/maps/w2_map.h"
#include <gtest/gtest.h>
TEST(W2Map, Placeholder) {}
