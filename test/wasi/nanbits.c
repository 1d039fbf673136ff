/* nanbits.c - prints the bits of NaNs that float operations produce.
   WebAssembly leaves their sign and payload to the CPU; `gate run
   --deterministic` makes them the canonical positive quiet NaN. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static uint32_t bits32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

int main(int argc, char **argv)
{
    /* values the compiler cannot fold: they come from the arguments */
    double zero = argc > 1 ? atof(argv[1]) : 0.0, one = zero + 1.0;
    double inf = one / zero;
    volatile uint64_t payload = 0x7ff4000000000123ull;   /* a signalling NaN, a payload */
    uint64_t p = payload;
    double snan;
    memcpy(&snan, &p, 8);
    float fzero = (float)zero;
    printf("f64 0/0       %016llx\n", (unsigned long long)bits64(zero / zero));
    printf("f64 inf-inf   %016llx\n", (unsigned long long)bits64(inf - inf));
    printf("f64 sqrt(-1)  %016llx\n", (unsigned long long)bits64(sqrt(zero - one)));
    printf("f64 snan+1    %016llx\n", (unsigned long long)bits64(snan + one));
    printf("f64 -(0/0)*1  %016llx\n", (unsigned long long)bits64(-(zero / zero) * one));
    printf("f64 min(nan)  %016llx\n", (unsigned long long)bits64(fmin(zero / zero, one) + (zero / zero)));
    printf("f64 floor     %016llx\n", (unsigned long long)bits64(floor(snan)));
    printf("f32 0/0       %08x\n", (unsigned)bits32(fzero / fzero));
    printf("f32 demote    %08x\n", (unsigned)bits32((float)(snan * one)));
    printf("f64 promote   %016llx\n", (unsigned long long)bits64((double)(fzero / fzero)));
    return 0;
}
