// Mutation campaign driver for MAC units (see lowbit/verify/faults/harness.py).
//
// The Verilated model "Vdut" is a synthesized netlist with every mutation behind a "mutsel"
// input: mutsel == 0 is the unmutated design, mutsel == k enables mutation k alone. Ports:
// clk, rst, valid, clear, a, b, mutsel in; out_valid, acc out (acc at most 64 bits).
//
// Usage: mutant_sim VECTORS RESULTS MUTANTS SHARD SHARDS
//   Runs mutants k = SHARD, SHARD + SHARDS, ... up to MUTANTS (mutant 0 included) on every
//   vector set of VECTORS and writes one line per (mutant, set) that detects it to RESULTS:
//   "mutant set op kind got", kind 1 = acc differs from the expected code at operation op,
//   2 = out_valid high on a cycle that completes no operation, 3 = some operation never
//   completed (op = first one missing). Prints each finished mutant id on stdout (progress).
//
// VECTORS, all little-endian uint64: magic "LBMUTV01", latency, acc width, set count, then per
// set its operation count n and four arrays of n: clear, a, b, expected (acc code mod 2**width).
//
// Each (mutant, set) run starts from a freshly constructed model, so a mutant that breaks the
// reset cannot carry state from one run into the next; the protocol is the cocotb driver's
// (lowbit.verify.testbenches.pipeline): reset for one edge, then operation i on cycle i, and
// out_valid checked after every rising edge against the operation issued latency cycles before.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "Vdut.h"
#include "verilated.h"

namespace {

struct VectorSet {
    std::vector<uint64_t> clear, a, b, expected;
};

struct Detection {
    int64_t op = -1;  // -1: not detected
    int kind = 0;
    uint64_t got = 0;
};

uint64_t read_word(FILE* f) {
    uint64_t w;
    if (std::fread(&w, sizeof w, 1, f) != 1) {
        std::fprintf(stderr, "mutant_sim: vector file is truncated\n");
        std::exit(2);
    }
    return w;
}

void read_array(FILE* f, std::vector<uint64_t>& out, uint64_t n) {
    out.resize(n);
    if (n && std::fread(out.data(), sizeof(uint64_t), n, f) != n) {
        std::fprintf(stderr, "mutant_sim: vector file is truncated\n");
        std::exit(2);
    }
}

Detection run(VerilatedContext& context, uint64_t mutant, const VectorSet& s, uint64_t latency,
              uint64_t mask) {
    Detection d;
    Vdut dut{&context};
    const uint64_t n = s.a.size();
    dut.mutsel = mutant;
    dut.clk = 0;
    dut.rst = 1;
    dut.valid = 0;
    dut.clear = 0;
    dut.a = 0;
    dut.b = 0;
    dut.eval();
    dut.clk = 1;
    dut.eval();
    dut.clk = 0;
    dut.rst = 0;
    dut.eval();
    uint64_t checked = 0;
    for (uint64_t cycle = 0; cycle < n + latency; ++cycle) {
        if (cycle < n) {
            dut.valid = 1;
            dut.clear = s.clear[cycle];
            dut.a = s.a[cycle];
            dut.b = s.b[cycle];
        } else {
            dut.valid = 0;
        }
        dut.clk = 1;
        dut.eval();
        if (dut.out_valid) {
            const int64_t op = static_cast<int64_t>(cycle + 1) - static_cast<int64_t>(latency);
            const uint64_t got = static_cast<uint64_t>(dut.acc) & mask;
            if (op < 0 || op >= static_cast<int64_t>(n)) {
                d.op = op < 0 ? 0 : op;
                d.kind = 2;
                d.got = got;
                return d;
            }
            if (got != s.expected[op]) {
                d.op = op;
                d.kind = 1;
                d.got = got;
                return d;
            }
            if (static_cast<uint64_t>(op) != checked) {  // an operation was skipped
                d.op = static_cast<int64_t>(checked);
                d.kind = 3;
                return d;
            }
            ++checked;
        }
        dut.clk = 0;
        dut.eval();
    }
    if (checked != n) {
        d.op = static_cast<int64_t>(checked);
        d.kind = 3;
    }
    return d;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s VECTORS RESULTS MUTANTS SHARD SHARDS\n", argv[0]);
        return 2;
    }
    const uint64_t mutants = std::strtoull(argv[3], nullptr, 10);
    const uint64_t shard = std::strtoull(argv[4], nullptr, 10);
    const uint64_t shards = std::strtoull(argv[5], nullptr, 10);
    if (shards == 0 || shard >= shards) {
        std::fprintf(stderr, "mutant_sim: shard %s of %s\n", argv[4], argv[5]);
        return 2;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 2;
    }
    char magic[8];
    if (std::fread(magic, 1, 8, in) != 8 || std::memcmp(magic, "LBMUTV01", 8) != 0) {
        std::fprintf(stderr, "mutant_sim: %s is not a mutation vector file\n", argv[1]);
        return 2;
    }
    const uint64_t latency = read_word(in);
    const uint64_t width = read_word(in);
    const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    std::vector<VectorSet> sets(read_word(in));
    for (auto& s : sets) {
        const uint64_t n = read_word(in);
        read_array(in, s.clear, n);
        read_array(in, s.a, n);
        read_array(in, s.b, n);
        read_array(in, s.expected, n);
    }
    std::fclose(in);

    FILE* out = std::fopen(argv[2], "w");
    if (!out) {
        std::perror(argv[2]);
        return 2;
    }
    VerilatedContext context;
    for (uint64_t m = shard; m <= mutants; m += shards) {
        for (size_t k = 0; k < sets.size(); ++k) {
            const Detection d = run(context, m, sets[k], latency, mask);
            if (d.op >= 0)
                std::fprintf(out, "%llu %zu %lld %d %llu\n", static_cast<unsigned long long>(m),
                             k, static_cast<long long>(d.op), d.kind,
                             static_cast<unsigned long long>(d.got));
        }
        std::printf("%llu\n", static_cast<unsigned long long>(m));
        std::fflush(stdout);
    }
    if (std::fclose(out) != 0) {
        std::perror(argv[2]);
        return 2;
    }
    return 0;
}
