/* raytrace.c - a small ray tracer in doubles: spheres and a plane, point
 * lights with shadows, mirror reflections three deep, a 200x150 image
 * rendered with a moving camera; only + - * / and sqrt, so every build
 * computes the same bits.  Prints a checksum of the quantised pixels. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

typedef struct { double x, y, z; } vec;

static vec v(double x, double y, double z) { return (vec){ x, y, z }; }
static vec add(vec a, vec b) { return v(a.x + b.x, a.y + b.y, a.z + b.z); }
static vec sub(vec a, vec b) { return v(a.x - b.x, a.y - b.y, a.z - b.z); }
static vec mul(vec a, double k) { return v(a.x * k, a.y * k, a.z * k); }
static double dot(vec a, vec b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static vec norm(vec a) { return mul(a, 1.0 / sqrt(dot(a, a))); }

typedef struct {
    vec c;
    double r, refl;
    vec color;
} sphere;

#define NS 6
static sphere spheres[NS] = {
    { { 0, -1, 3 }, 1, 0.3, { 1, 0.2, 0.2 } },   { { 2, 0, 4 }, 1, 0.5, { 0.2, 0.2, 1 } },
    { { -2, 0, 4 }, 1, 0.1, { 0.2, 1, 0.2 } },   { { 0, 1.5, 5 }, 0.7, 0.6, { 1, 1, 0.2 } },
    { { 1, -0.6, 1.8 }, 0.4, 0.0, { 1, 0.5, 1 } }, { { -1, -0.7, 2 }, 0.3, 0.8, { 0.5, 1, 1 } },
};
static const vec lights[2] = { { 2, 5, 0 }, { -3, 3, 1 } };

/* nearest hit: sphere index (NS for the floor y = -2), distance */
static int intersect(vec o, vec d, double *t)
{
    int hit = -1;
    double best = 1e30;
    for (int i = 0; i < NS; i++) {
        vec oc = sub(o, spheres[i].c);
        double b = dot(oc, d), c = dot(oc, oc) - spheres[i].r * spheres[i].r;
        double disc = b * b - c;
        if (disc < 0)
            continue;
        double s = sqrt(disc), t0 = -b - s;
        if (t0 < 1e-6)
            t0 = -b + s;
        if (t0 > 1e-6 && t0 < best)
            best = t0, hit = i;
    }
    if (d.y < -1e-9) {
        double tf = (-2 - o.y) / d.y;
        if (tf > 1e-6 && tf < best)
            best = tf, hit = NS;
    }
    *t = best;
    return hit;
}

static vec trace(vec o, vec d, int depth)
{
    double t;
    int h = intersect(o, d, &t);
    if (h < 0)
        return v(0.1, 0.1, 0.2 + 0.3 * (d.y > 0 ? d.y : 0));
    vec p = add(o, mul(d, t)), n, color;
    double refl;
    if (h == NS) {
        n = v(0, 1, 0);
        long cx = (long)(p.x + 1000), cz = (long)(p.z + 1000);
        color = (cx + cz) & 1 ? v(0.9, 0.9, 0.9) : v(0.2, 0.2, 0.2);
        refl = 0.2;
    } else {
        n = norm(sub(p, spheres[h].c));
        color = spheres[h].color;
        refl = spheres[h].refl;
    }
    vec out = mul(color, 0.1);
    for (int l = 0; l < 2; l++) {
        vec ld = sub(lights[l], p);
        double dist = sqrt(dot(ld, ld));
        ld = mul(ld, 1.0 / dist);
        double st;
        int sh = intersect(add(p, mul(n, 1e-4)), ld, &st);
        if (sh >= 0 && st < dist)
            continue;
        double diff = dot(n, ld);
        if (diff > 0)
            out = add(out, mul(color, diff * 0.6));
        vec hv = norm(sub(ld, d));
        double spec = dot(n, hv);
        if (spec > 0) {
            double s2 = spec * spec, s4 = s2 * s2, s8 = s4 * s4;
            out = add(out, v(s8 * s8 * 0.5, s8 * s8 * 0.5, s8 * s8 * 0.5));
        }
    }
    if (depth < 3 && refl > 0) {
        vec r = sub(d, mul(n, 2 * dot(d, n)));
        out = add(mul(out, 1 - refl), mul(trace(add(p, mul(n, 1e-4)), r, depth + 1), refl));
    }
    return out;
}

static int quant(double c)
{
    return c <= 0 ? 0 : c >= 1 ? 255 : (int)(c * 255.0);
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    const int W = 200, H = 150;
    uint64_t total = 0;
    for (int frame = 0; frame < 10 * scale; frame++) {
        uint32_t h = 2166136261u;
        vec eye = v(0.05 * frame, 0.02 * frame, -1);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                vec d = norm(v((x - W / 2) / (double)H, (H / 2 - y) / (double)H, 1));
                vec c = trace(eye, d, 0);
                h = (h ^ (uint32_t)quant(c.x)) * 16777619u;
                h = (h ^ (uint32_t)quant(c.y)) * 16777619u;
                h = (h ^ (uint32_t)quant(c.z)) * 16777619u;
            }
        if (frame % 4 == 0)
            printf("frame %d: %08x\n", frame, h);
        total += h;
    }
    printf("raytrace: %d frames, sum %llu\n", 10 * scale, (unsigned long long)total);
    return 0;
}
