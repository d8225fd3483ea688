// Compiled stream testbench for one-in/one-out valid/ready designs (neurogate).
//
// Verilator builds it together with the design (``--prefix Vtop``), so no Python runs
// per clock.  Parameters come in as -D defines from ``harness.py``:
//   NG_IN_BITS   width of ``i__payload``
//   NG_OUT_BITS  width of ``o__payload``
//   NG_TRACE     (optional, with Verilator --trace) write a VCD of the first
//                $NG_TRACE_CYCLES clock cycles after reset (default 10000) to the file
//                $NG_TRACE_VCD, when that variable is set; time counts half cycles
//                (even: clk low with the cycle's inputs, odd: after the rising edge)
//
// Usage: tb INPUT.bin OUTPUT.bin
//
// Input file (little-endian): 8 uint32 header words
//   [0] magic 0x3149474E ("NGI1")  [1] in_bits  [2] words per chunk  [3] chunks per vector
//   [4] outputs per vector          [5] vectors  [6] timeout cycles   [7] flags
// (flags bit 0, "pipelined": offer the next vector as soon as the current one's chunks
// are in, without waiting for its outputs, as a design with II = 1 takes them;
// bit 1, "echoes": an echo table follows the payload)
// then vectors x chunks x words uint32 payload words, least significant word first.
// Echo table (not with "pipelined"): uint32 count, uint32 echo_bits, then count x
// (chunk, output, length) uint32 triples in chunk order: input chunks chunk ..<
// chunk + length of every vector are that vector's outputs output ..< output + length,
// their low echo_bits bits, sent back once they have arrived (a host returning data the
// design stored, as the programmable engine's spilled tensors; the file's words there
// are ignored).
//
// Output file (little-endian): 16 uint64 header words (see ``Header`` below), then
// ``done`` uint64 cycle counts, then done x outputs x out-words uint32 payload words.
//
// Protocol: rst high for 3 cycles, then for each vector its chunks back to back with
// i.valid high, o.ready always high; vector v+1 is offered on the cycle after vector
// v's last output transfer (pipelined: on the cycle after v's last chunk).  Outputs
// come in vector order.  A transfer happens on a rising edge where valid and ready
// were both high.  Cycle 0 is the first rising edge after reset.

#include "Vtop.h"
#include "verilated.h"
#ifdef NG_TRACE
#include "verilated_vcd_c.h"

#include <cstdlib>
#endif

#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#ifndef NG_IN_BITS
#error "NG_IN_BITS must be defined (-DNG_IN_BITS=...)"
#endif
#ifndef NG_OUT_BITS
#error "NG_OUT_BITS must be defined (-DNG_OUT_BITS=...)"
#endif

static_assert(std::endian::native == std::endian::little, "the file formats are little-endian");

constexpr int kInWords = (NG_IN_BITS + 31) / 32;
constexpr int kOutWords = (NG_OUT_BITS + 31) / 32;
constexpr uint32_t kInMagic = 0x3149474Eu;   // "NGI1"
constexpr uint64_t kOutMagic = 0x314F474Eu;  // "NGO1"

// Verilator escapes "__" in port names as "___05F".
#define IN_PAYLOAD i___05Fpayload
#define IN_VALID i___05Fvalid
#define IN_READY i___05Fready
#define OUT_PAYLOAD o___05Fpayload
#define OUT_VALID o___05Fvalid
#define OUT_READY o___05Fready

enum Status : uint64_t { kOk = 0, kHang = 1, kProtocol = 2 };
enum Handshake : uint64_t { kNone = 0, kInput = 1, kOutput = 2 };

struct Header {
    uint64_t magic = kOutMagic;
    uint64_t version = 1;
    uint64_t status = kOk;
    uint64_t done = 0;            // vectors whose outputs all arrived
    uint64_t total_cycles = 0;    // clock cycles after reset
    uint64_t sim_ns = 0;          // wall time of the clock loop
    uint64_t out_words = kOutWords;
    uint64_t fail_vector = 0;     // status != ok: the vector, the cycle, its progress
    uint64_t fail_cycle = 0;
    uint64_t fail_outputs = 0;
    uint64_t fail_chunks = 0;
    uint64_t last_kind = kNone;   // the last handshake before the failure
    uint64_t last_vector = 0;
    uint64_t last_index = 0;
    uint64_t last_cycle = 0;
    uint64_t reserved = 0;
};
static_assert(sizeof(Header) == 16 * 8);

// Port access for every width Verilator uses: CData/SData/IData, QData, VlWide.
template <int BITS, typename Port>
static inline void set_port(Port& port, const uint32_t* words) {
    if constexpr (BITS > 64) {
        for (int k = 0; k < (BITS + 31) / 32; ++k) port[k] = words[k];
    } else if constexpr (BITS > 32) {
        port = static_cast<uint64_t>(words[0]) | (static_cast<uint64_t>(words[1]) << 32);
    } else {
        port = words[0];
    }
}

template <int BITS, typename Port>
static inline void get_port(const Port& port, uint32_t* words) {
    if constexpr (BITS > 64) {
        for (int k = 0; k < (BITS + 31) / 32; ++k) words[k] = port[k];
    } else if constexpr (BITS > 32) {
        const uint64_t value = port;
        words[0] = static_cast<uint32_t>(value);
        words[1] = static_cast<uint32_t>(value >> 32);
    } else {
        words[0] = static_cast<uint32_t>(port);
    }
}

static int fail(const char* message, const char* path) {
    std::fprintf(stderr, "stream_tb: %s: %s\n", path, message);
    return 2;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin\n", argv[0]);
        return 2;
    }
    const char* in_path = argv[1];
    const char* out_path = argv[2];

    std::FILE* in = std::fopen(in_path, "rb");
    if (!in) return fail("cannot open", in_path);
    uint32_t head[8];
    if (std::fread(head, sizeof head, 1, in) != 1) return fail("truncated header", in_path);
    if (head[0] != kInMagic) return fail("not a stream input file (bad magic)", in_path);
    if (head[1] != NG_IN_BITS || head[2] != kInWords) {
        std::fprintf(stderr, "stream_tb: %s: in_bits %u, but this harness was built for %d\n",
                     in_path, head[1], NG_IN_BITS);
        return 2;
    }
    const uint64_t chunks = head[3], outputs = head[4], vectors = head[5], timeout = head[6];
    if (chunks == 0 || outputs == 0 || timeout == 0)
        return fail("chunks, outputs and timeout must be positive", in_path);
    const uint64_t chunk_stride = kInWords, vector_stride = chunks * kInWords;
    std::vector<uint32_t> data(vectors * vector_stride);
    if (!data.empty() && std::fread(data.data(), 4, data.size(), in) != data.size())
        return fail("truncated payload words", in_path);
    struct Echo { uint32_t chunk, output, length; };
    std::vector<Echo> echoes;
    uint32_t echo_bits = 0;
    if (head[7] & 2u) {
        uint32_t table[2];
        if (std::fread(table, sizeof table, 1, in) != 1) return fail("truncated echo table", in_path);
        echoes.resize(table[0]);
        echo_bits = table[1];
        if (!echoes.empty() && std::fread(echoes.data(), sizeof(Echo), echoes.size(), in) != echoes.size())
            return fail("truncated echo table", in_path);
        for (const Echo& e : echoes)
            if (uint64_t(e.chunk) + e.length > chunks || uint64_t(e.output) + e.length > outputs)
                return fail("an echo outside the chunks or the outputs", in_path);
    }
    std::fclose(in);

    const uint64_t out_stride = outputs * kOutWords;
    std::vector<uint32_t> payloads(vectors * out_stride);
    std::vector<uint64_t> cycles(vectors);
    Header h;

    auto context = std::make_unique<VerilatedContext>();
#ifdef NG_TRACE
    const char* vcd_path = std::getenv("NG_TRACE_VCD");
    const char* vcd_limit = std::getenv("NG_TRACE_CYCLES");
    const uint64_t trace_cycles = vcd_limit ? std::strtoull(vcd_limit, nullptr, 10) : 10000;
    if (vcd_path) context->traceEverOn(true);
#endif
    auto top = std::make_unique<Vtop>(context.get());

    // Reset, as the cocotb benches do: rst high for 3 rising edges, both streams idle.
    top->clk = 0;
    top->rst = 1;
    top->IN_VALID = 0;
    top->OUT_READY = 0;
    top->eval();
    for (int k = 0; k < 3; ++k) {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
    }
    top->rst = 0;
    top->OUT_READY = 1;
#ifdef NG_TRACE
    std::unique_ptr<VerilatedVcdC> vcd;
    if (vcd_path && trace_cycles) {
        vcd = std::make_unique<VerilatedVcdC>();
        top->trace(vcd.get(), 99);
        vcd->open(vcd_path);
        if (!vcd->isOpen()) return fail("cannot write", vcd_path);
    }
    auto dump = [&](uint64_t cycle, int phase) {
        if (!vcd) return;
        if (cycle < trace_cycles) {
            vcd->dump(2 * cycle + phase);
        } else {
            vcd->close();
            vcd.reset();
        }
    };
#define NG_DUMP(cycle, phase) dump(cycle, phase)
#else
#define NG_DUMP(cycle, phase)
#endif

    const auto t0 = std::chrono::steady_clock::now();
    const bool pipelined = (head[7] & 1u) != 0;
    if (pipelined && !echoes.empty()) return fail("echoes need the unpipelined protocol", in_path);
    std::vector<uint64_t> start(vectors);
    uint64_t cycle = 0, vi = 0, chunk = 0, vo = 0, got = 0, progress = 0;
    uint32_t* out = payloads.data();
    size_t echo_at = 0;                 // the first echo not wholly before this chunk
    uint32_t echoed[kInWords];
    // The chunk's words: from the file, or an output of this vector's that has arrived
    // (nullptr while it has not).
    auto chunk_words = [&]() -> const uint32_t* {
        if (chunk == 0) echo_at = 0;
        while (echo_at < echoes.size() && chunk >= uint64_t(echoes[echo_at].chunk) + echoes[echo_at].length)
            ++echo_at;
        if (echo_at == echoes.size() || chunk < echoes[echo_at].chunk)
            return data.data() + vi * vector_stride + chunk * chunk_stride;
        const uint64_t index = echoes[echo_at].output + (chunk - echoes[echo_at].chunk);
        if (index >= got) return nullptr;
        const uint32_t* from = out + vo * out_stride + index * kOutWords;
        for (int k = 0; k < kInWords; ++k) {
            const uint32_t word = k < kOutWords ? from[k] : 0;
            const int low = 32 * k;
            echoed[k] = low >= int(echo_bits) ? 0
                      : (int(echo_bits) - low >= 32 ? word : word & ((1u << (echo_bits - low)) - 1u));
        }
        return echoed;
    };
    // Present the next chunk, if the protocol lets this vector in now.
    auto offer = [&]() {
        const uint32_t* words = vi < vectors && (pipelined || vi == vo) ? chunk_words() : nullptr;
        if (words) {
            set_port<NG_IN_BITS>(top->IN_PAYLOAD, words);
            top->IN_VALID = 1;
        } else {
            top->IN_VALID = 0;
        }
    };
    offer();
    while (vo < vectors) {
        top->eval();  // clk low, this cycle's inputs: settle the handshakes
        NG_DUMP(cycle, 0);
        const bool in_fire = top->IN_VALID && top->IN_READY;
        const bool out_fire = top->OUT_VALID;  // o.ready is always high
        if (out_fire) get_port<NG_OUT_BITS>(top->OUT_PAYLOAD, out + vo * out_stride + got * kOutWords);
        top->clk = 1;
        top->eval();
        NG_DUMP(cycle, 1);
        top->clk = 0;

        if (in_fire) {
            if (chunk == 0) start[vi] = cycle;
            h.last_kind = kInput, h.last_vector = vi, h.last_index = chunk, h.last_cycle = cycle;
            if (++chunk == chunks) chunk = 0, ++vi;
        }
        if (out_fire) {
            // Vector vo's inputs are all in once vi > vo; some are in once chunk > 0.
            const bool none_in = vi == vo && chunk == 0;
            const bool all_in = vi > vo;
            if (none_in || (got + 1 == outputs && !all_in)) {
                // An output before the vector's first chunk, or all outputs before its last.
                h.status = kProtocol;
                h.fail_vector = vo, h.fail_cycle = cycle, h.fail_outputs = got + 1;
                h.fail_chunks = all_in ? chunks : chunk;
                ++cycle;
                break;
            }
            h.last_kind = kOutput, h.last_vector = vo, h.last_index = got, h.last_cycle = cycle;
            progress = cycle;
            if (++got == outputs) {
                cycles[vo] = cycle - start[vo] + 1;
                got = 0;
                ++vo;
            }
        } else if (cycle - progress >= timeout) {
            h.status = kHang;
            h.fail_vector = vo, h.fail_cycle = cycle, h.fail_outputs = got;
            h.fail_chunks = vi > vo ? chunks : chunk;
            ++cycle;
            break;
        }
        offer();
        ++cycle;
    }
    const auto t1 = std::chrono::steady_clock::now();
#ifdef NG_TRACE
    if (vcd) vcd->close();
#endif
    top->final();

    h.done = vo;
    h.total_cycles = cycle;
    h.sim_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    std::FILE* o = std::fopen(out_path, "wb");
    if (!o) return fail("cannot write", out_path);
    bool ok = std::fwrite(&h, sizeof h, 1, o) == 1;
    if (h.done) {
        ok = ok && std::fwrite(cycles.data(), 8, h.done, o) == h.done;
        ok = ok && std::fwrite(payloads.data(), 4, h.done * out_stride, o) == h.done * out_stride;
    }
    ok = (std::fclose(o) == 0) && ok;
    if (!ok) return fail("write failed", out_path);
    return h.status == kOk ? 0 : 1;
}
