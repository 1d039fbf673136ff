// host.cpp - the same application as host.c, in C++17: libgate.h is
// included unchanged, its handles owned by std::unique_ptr, a host
// function is a static member taking its state through the user data.
// Its output is examples/host.expected, as host.c's.
//
//   c++ -std=c++17 host.cpp $(pkg-config --cflags --libs gate) -o host-cpp
//   ./host-cpp guest.wasm
#include <libgate.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

template <typename T, void (*Free)(T *)> struct deleter {
    void operator()(T *p) const { Free(p); }
};
using engine = std::unique_ptr<gate_engine, deleter<gate_engine, gate_engine_free>>;
using module = std::unique_ptr<gate_module, deleter<gate_module, gate_module_free>>;
using imports = std::unique_ptr<gate_imports, deleter<gate_imports, gate_imports_free>>;
using instance = std::unique_ptr<gate_instance, deleter<gate_instance, gate_instance_free>>;

std::string what(const gate_error &err)
{
    char msg[512];
    return gate_error_format(&err, msg, sizeof msg);
}

// plain C-compatible functions: libffi converts the wasm values
extern "C" void log_i32(int32_t v) { std::printf("  guest says %d\n", v); }
extern "C" double hypot2(double a, double b) { return std::sqrt(a * a + b * b); }

struct clock_state {
    int64_t counter = 0;
    static gate_status ticks(gate_call_ctx *, void *ud, const gate_val *, gate_val *res)
    {
        auto *self = static_cast<clock_state *>(ud);
        res[0].type = GATE_I64;
        res[0].of.i64 = ++self->counter;
        return GATE_OK;
    }
};

gate_val i32(int32_t v)
{
    gate_val x{};
    x.type = GATE_I32;
    x.of.i32 = v;
    return x;
}

gate_val f64(double v)
{
    gate_val x{};
    x.type = GATE_F64;
    x.of.f64 = v;
    return x;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: host-cpp guest.wasm\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "usage: host-cpp guest.wasm\n");
        return 2;
    }
    gate_error err{};
    engine eng(gate_engine_new(nullptr, &err));
    module mod(gate_module_new(eng.get(), bytes.data(), bytes.size(), &err));
    if (!mod) {
        std::fprintf(stderr, "%s\n", what(err).c_str());
        return 1;
    }
    clock_state clk;
    imports imp(gate_imports_new(eng.get()));
    if (gate_imports_func(imp.get(), "env", "log_i32", "v(i)",
                          reinterpret_cast<void (*)(void)>(log_i32), &err) ||
        gate_imports_func(imp.get(), "env", "hypot", "F(FF)",
                          reinterpret_cast<void (*)(void)>(hypot2), &err) ||
        gate_imports_func_raw(imp.get(), "env", "ticks", "I()", clock_state::ticks, &clk, &err)) {
        std::fprintf(stderr, "%s\n", what(err).c_str());
        return 1;
    }
    instance inst(gate_instance_new(mod.get(), imp.get(), nullptr, &err));
    if (!inst) {
        std::fprintf(stderr, "%s\n", what(err).c_str());
        return 1;
    }

    gate_val arg = i32(1000), res{};
    std::printf("squares(1000):\n");
    if (gate_call(inst.get(), "squares", &arg, 1, &res, 1, &err) == GATE_OK)
        std::printf("  = %lld\n", static_cast<long long>(res.of.i64));

    gate_val d[2] = { f64(3), f64(4) };
    if (gate_call(inst.get(), "diagonal", d, 2, &res, 1, &err) == GATE_OK)
        std::printf("diagonal(3, 4) = %g\n", res.of.f64);

    for (int i = 0; i < 2; i++)
        if (gate_call(inst.get(), "elapsed", nullptr, 0, &res, 1, &err) == GATE_OK)
            std::printf("elapsed() = %lld\n", static_cast<long long>(res.of.i64));

    char text[21] = {};
    if (gate_memory_read(inst.get(), 16, text, 20) == GATE_OK)
        std::printf("memory[16..36] = \"%s\"\n", text);

    gate_status st = gate_call(inst.get(), "crash", nullptr, 0, &res, 1, &err);
    gate_trap_info ti{};
    gate_trap_info_get(inst.get(), &ti);
    std::printf("crash() -> %s: %s (code %d, wasm offset 0x%x)\n", gate_status_name(st),
                err.message, static_cast<int>(ti.code), ti.wasm_offset);

    // the instance is still usable after its trap
    arg = i32(3);
    if (gate_call(inst.get(), "squares", &arg, 1, &res, 1, &err) == GATE_OK)
        std::printf("squares(3) = %lld after the trap\n", static_cast<long long>(res.of.i64));
    // the handles go in reverse order of making: instance, imports, module, engine
    inst.reset();
    imp.reset();
    mod.reset();
    return 0;
}
