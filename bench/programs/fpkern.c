/* fpkern.c - double-precision kernels using only + - * / and sqrt (all exact
 * IEEE operations, so results are bit-identical everywhere): an n-body
 * simulation, a mandelbrot escape count and a spectral-norm power iteration. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NBODIES   24
#define NB_STEPS  6000
#define MB_W      320
#define MB_H      240
#define MB_ITER   256
#define SN_N      260
#define SN_ITERS  8

static int parse_scale(int argc, char **argv)
{
    if (argc < 2)
        return 10;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || v <= 0 || v > 1000000)
        return 10;
    return (int)v;
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix-style generator with own constants */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi), with 2^-32 granularity: exactly representable */
static double rng_range(double lo, double hi)
{
    double u = (double)(uint32_t)(rng_next() >> 32) / 4294967296.0;
    return lo + (hi - lo) * u;
}

/* ---- n-body ---- */
struct body {
    double x, y, z, vx, vy, vz, m;
};

static struct body bodies[NBODIES];

static void nbody_init(uint64_t seed)
{
    rng_state = seed;
    double px = 0, py = 0, pz = 0, mt = 0;
    for (int i = 0; i < NBODIES; i++) {
        struct body *b = &bodies[i];
        b->x = rng_range(-20, 20);
        b->y = rng_range(-20, 20);
        b->z = rng_range(-2, 2);
        b->vx = rng_range(-0.5, 0.5);
        b->vy = rng_range(-0.5, 0.5);
        b->vz = rng_range(-0.05, 0.05);
        b->m = i == 0 ? 40.0 : rng_range(0.1, 1.0);
        px += b->vx * b->m;
        py += b->vy * b->m;
        pz += b->vz * b->m;
        mt += b->m;
    }
    /* remove net momentum */
    for (int i = 0; i < NBODIES; i++) {
        bodies[i].vx -= px / mt;
        bodies[i].vy -= py / mt;
        bodies[i].vz -= pz / mt;
    }
}

static double nbody_energy(void)
{
    double e = 0;
    for (int i = 0; i < NBODIES; i++) {
        const struct body *a = &bodies[i];
        e += 0.5 * a->m * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < NBODIES; j++) {
            const struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            e -= a->m * b->m / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
        }
    }
    return e;
}

static void nbody_step(double dt)
{
    for (int i = 0; i < NBODIES; i++) {
        struct body *a = &bodies[i];
        for (int j = i + 1; j < NBODIES; j++) {
            struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            double d2 = dx * dx + dy * dy + dz * dz + 0.01;
            double mag = dt / (d2 * sqrt(d2));
            a->vx -= dx * b->m * mag;
            a->vy -= dy * b->m * mag;
            a->vz -= dz * b->m * mag;
            b->vx += dx * a->m * mag;
            b->vy += dy * a->m * mag;
            b->vz += dz * a->m * mag;
        }
    }
    for (int i = 0; i < NBODIES; i++) {
        struct body *a = &bodies[i];
        a->x += dt * a->vx;
        a->y += dt * a->vy;
        a->z += dt * a->vz;
    }
}

/* ---- mandelbrot ---- */
static uint64_t mandel(double cx0, double cy0, double span, uint32_t *inside)
{
    uint64_t iters = 0;
    uint32_t in = 0;
    for (int py = 0; py < MB_H; py++) {
        double ci = cy0 + span * ((double)py / MB_H - 0.5) * 0.75;
        for (int px = 0; px < MB_W; px++) {
            double cr = cx0 + span * ((double)px / MB_W - 0.5);
            double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
            int k = 0;
            while (k < MB_ITER && zr2 + zi2 <= 4.0) {
                zi = 2.0 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                zr2 = zr * zr;
                zi2 = zi * zi;
                k++;
            }
            iters += (uint64_t)k;
            if (k == MB_ITER)
                in++;
        }
    }
    *inside = in;
    return iters;
}

/* ---- spectral norm ---- */
static double sn_a(int i, int j)
{
    return 1.0 / (double)((i + j) * (i + j + 1) / 2 + i + 1);
}

static void sn_mul_av(const double *v, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++)
            s += sn_a(i, j) * v[j];
        out[i] = s;
    }
}

static void sn_mul_atv(const double *v, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++)
            s += sn_a(j, i) * v[j];
        out[i] = s;
    }
}

static double spectral(int n, int iters)
{
    double *u = malloc(sizeof(double) * (size_t)n);
    double *v = malloc(sizeof(double) * (size_t)n);
    double *t = malloc(sizeof(double) * (size_t)n);
    if (!u || !v || !t) {
        printf("out of memory\n");
        exit(1);
    }
    for (int i = 0; i < n; i++)
        u[i] = 1.0;
    for (int k = 0; k < iters; k++) {
        sn_mul_av(u, t, n);
        sn_mul_atv(t, v, n);
        sn_mul_av(v, t, n);
        sn_mul_atv(t, u, n);
    }
    double vbv = 0, vv = 0;
    for (int i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    free(u);
    free(v);
    free(t);
    return sqrt(vbv / vv);
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("fpkern: scale %d\n", scale);

    double esum = 0, snsum = 0;
    uint64_t mbsum = 0;
    for (int r = 0; r < scale; r++) {
        nbody_init(0x5eed0000ull + (uint64_t)r);
        double e0 = nbody_energy();
        for (int s = 0; s < NB_STEPS; s++)
            nbody_step(0.001);
        double e1 = nbody_energy();
        esum += e1;

        uint32_t inside;
        double span = 3.0 / (1.0 + 0.25 * (r % 4));
        uint64_t it = mandel(-0.7435 + 0.001 * (r % 7), 0.1314, span, &inside);
        mbsum += it + inside;

        double sn = spectral(SN_N + (r % 5), SN_ITERS);
        snsum += sn;

        if ((r + 1) % step == 0)
            printf("round %d: energy %.9f -> %.9f  mandel %llu/%u  spectral %.9f\n",
                   r + 1, e0, e1, (unsigned long long)it, inside, sn);
    }
    printf("energy sum %.9f\n", esum);
    printf("mandel sum %llu\n", (unsigned long long)mbsum);
    printf("spectral sum %.9f\n", snsum);
    return 0;
}
