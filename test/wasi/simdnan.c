/*
 * simdnan.c - the NaN bits of SIMD float operations: x86-64 and ARM64
 * make different ones (sign, payload propagation, min/max, conversions);
 * --deterministic makes every one canonical on both
 * (test/wasi/simdnan.expected).  Built with -msimd128.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasm_simd128.h>

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));

static void show(const char *what, const void *v)
{
    uint32_t l[4];
    memcpy(l, v, 16);
    printf("%-8s %08x %08x %08x %08x\n", what, l[0], l[1], l[2], l[3]);
}

int main(int argc, char **argv)
{
    (void)argv;
    volatile float z = (float)(argc - 1), inf = 1.0f / z;
    uint32_t pb = 0x7fa00001, nb = 0xffc00123;
    float payload, neg;
    memcpy(&payload, &pb, 4);
    memcpy(&neg, &nb, 4);
    f32x4 a = { z, inf, payload, neg }, b = { z, inf, 1.0f, 2.0f };
    f32x4 q = a / b;
    show("div", &q);
    f32x4 s = a - b;
    show("sub", &s);
    f32x4 m = a * (f32x4){ inf, z, 3.0f, neg };
    show("mul", &m);
    f32x4 mn = (f32x4)wasm_f32x4_min((v128_t)a, (v128_t)b);
    show("min", &mn);
    f32x4 mx = (f32x4)wasm_f32x4_max((v128_t)a, (v128_t)(f32x4){ neg, payload, z, z });
    show("max", &mx);
    f32x4 r = (f32x4)wasm_f32x4_sqrt((v128_t)(f32x4){ -1.0f, payload, neg, -z });
    show("sqrt", &r);
    f64x2 d = (f64x2){ (double)z, (double)inf } * (f64x2){ (double)inf, (double)z };
    show("f64mul", &d);
    f64x2 pr = __builtin_convertvector(__builtin_shufflevector(a, a, 2, 3), f64x2);
    show("promote", &pr);
    return 0;
}
