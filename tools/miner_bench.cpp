// miner_bench: micro-benchmark of level-3 grouping (core/parameterize + core/template_miner).
//
//   luffy-miner-bench FILE [--passes N] [--flood N]
//
// FILE: one message per line (e.g. a LogHub-2k log or its Content column). Prints, as JSON:
//   parameterize_ns  mean ns per parameterize() call over all lines and passes;
//   add_ns           mean ns per template_miner::add() of the parameterised lines, each pass into
//                    a fresh miner (so every pass pays for creating its groups);
//   groups           groups after one pass;
//   flood_add_ns     (with --flood N) mean ns per add() of N distinct messages that never merge
//                    (two different plain words each, one leaf): the per-add cost must stay
//                    bounded (the miner compares at most max_compared groups per add).
// Not a test: timings depend on the machine. Single-threaded, steady_clock.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/parameterize.hpp"
#include "core/template_miner.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double ns_since(clock_type::time_point start, size_t n) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - start).count();
  return n == 0 ? 0.0 : static_cast<double>(ns) / static_cast<double>(n);
}

// A word made of letters only (no digit: a plain word, not a value): a, b, ..., z, ba, bb, ...
std::string word_for(size_t i) {
  std::string w;
  do {
    w += static_cast<char>('a' + i % 26);
    i /= 26;
  } while (i > 0);
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: luffy-miner-bench FILE [--passes N] [--flood N]\n";
    return 2;
  }
  size_t passes = 20;
  size_t flood = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--passes") {
      passes = std::stoul(argv[i + 1]);
    } else if (a == "--flood") {
      flood = std::stoul(argv[i + 1]);
    }
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') {
      l.pop_back();
    }
    lines.push_back(std::move(l));
  }

  std::vector<std::string> params(lines.size());
  size_t sink = 0;
  auto start = clock_type::now();
  for (size_t p = 0; p < passes; ++p) {
    for (size_t i = 0; i < lines.size(); ++i) {
      params[i] = luffy::parameterize(lines[i]);
      sink += params[i].size();
    }
  }
  const double param_ns = ns_since(start, passes * lines.size());

  size_t groups = 0;
  start = clock_type::now();
  for (size_t p = 0; p < passes; ++p) {
    luffy::template_miner miner;
    for (const std::string& m : params) {
      sink += miner.add(m).ordinal;
    }
    groups = miner.group_count();
  }
  const double add_ns = ns_since(start, passes * params.size());

  double flood_ns = 0;
  if (flood > 0) {
    std::vector<std::string> msgs;
    msgs.reserve(flood);
    for (size_t i = 0; i < flood; ++i) {
      // Two plain words differ from every earlier message: no merge, no position evidence.
      msgs.push_back("job " + word_for(i) + " rejected by scheduler " + word_for(i + 7) +
                     " on queue <num>");
    }
    luffy::template_miner miner;
    start = clock_type::now();
    for (const std::string& m : msgs) {
      sink += miner.add(m).ordinal;
    }
    flood_ns = ns_since(start, msgs.size());
  }
  std::printf(
      "{\"lines\":%zu,\"passes\":%zu,\"parameterize_ns\":%.0f,\"add_ns\":%.0f,\"groups\":%zu,"
      "\"flood\":%zu,\"flood_add_ns\":%.0f,\"sink\":%zu}\n",
      lines.size(), passes, param_ns, add_ns, groups, flood, flood_ns, sink % 10);
  return 0;
}
