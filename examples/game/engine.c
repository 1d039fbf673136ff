/*
 * engine.c - a game engine's scripts (examples/game): a scene of entities,
 * each scripted by a wasm module running as a process of one world.  Each
 * frame the engine sends every script a frame message and runs the world
 * for a fixed budget of fuel slices, then draws what the scripts asked
 * for (engine.draw) and writes some frames as PNG (libpng).  A script that
 * loops for ever is preempted at the end of the frame's budget and the
 * frame goes on; one that allocates without end is refused by its
 * sponsor and traps alone.  Saving the game is saving the world; a saved
 * game loads on either CPU type and continues bit for bit (fuel slices,
 * one worker, canonical NaNs).  Hot reload: at a given frame a script is
 * replaced by a new version, which takes over the old one's state when
 * both declare the same layout (export state_layout_1).
 *
 *   engine [--frames A-B] [--png N,N,...] [--out DIR] [--save-at N FILE]
 *          [--load FILE] [--reload-at N NEW.wasm] SCRIPTS_DIR
 *   engine --compare A.png B.png       the same pixels: exit 0
 *
 * SCRIPTS_DIR holds bouncer.wasm, looper.wasm and hog.wasm.  Every frame
 * prints "frame N: D draws, pixels XXH64" on stdout; events on stderr.
 */
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "../../libgate.h"

#define W 160
#define H 120
#define SLICE_FUEL 2000
#define FRAME_SLICES 12     /* the per-frame budget: 12 slices of 2,000 units */
#define MAX_DRAWS 256

typedef struct draw { int32_t x, y, size, rgb; } draw;
static draw draws[MAX_DRAWS];
static int ndraws;
static uint8_t pixels[H][W][3];
static uint8_t handed[64];
static size_t nhanded;

static gate_status h_draw(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ctx, (void)ud, (void)r;
    if (ndraws < MAX_DRAWS)
        draws[ndraws++] = (draw){ a[0].of.i32, a[1].of.i32, a[2].of.i32, a[3].of.i32 };
    return GATE_OK;
}

/* engine.handoff(ptr, len): a script's state, for its next version */
static gate_status h_handoff(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ud, (void)r;
    uint32_t len = (uint32_t)a[1].of.i32;
    if (len > sizeof handed ||
        gate_memory_read(gate_call_instance(ctx), (uint32_t)a[0].of.i32, handed, len) != GATE_OK) {
        gate_call_trap(ctx, "engine.handoff: a state outside its memory or over 64 bytes");
        return GATE_TRAPPED;
    }
    nhanded = len;
    return GATE_OK;
}

static gate_imports *script_imports(gate_engine *eng)
{
    gate_imports *imp = gate_imports_new(eng);
    if (!imp || gate_imports_world(imp, NULL) != GATE_OK ||
        gate_imports_func_raw(imp, "engine", "draw", "v(iiii)", h_draw, NULL, NULL) != GATE_OK ||
        gate_imports_func_raw(imp, "engine", "handoff", "v(ii)", h_handoff, NULL, NULL) != GATE_OK) {
        gate_imports_free(imp);
        return NULL;
    }
    return imp;
}

/* gate_world_restore's question: every script's imports are the same */
static gate_imports *restore_imports(void *ud, const char *name, const uint8_t *snap, size_t len,
                                     const gate_grants **grants, gate_error *err)
{
    (void)name, (void)snap, (void)len, (void)grants, (void)err;
    return script_imports(ud);
}

static void on_end(void *ud, gate_pid watcher, const gate_proc_info *p)
{
    (void)ud;
    if (watcher == 0)
        fprintf(stderr, "engine: script %s ended: %s\n", p->name, p->message);
}

static void render(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            pixels[y][x][0] = 16;
            pixels[y][x][1] = 24;
            pixels[y][x][2] = (uint8_t)(40 + y / 4);
        }
    for (int i = 0; i < ndraws; i++) {
        const draw *d = &draws[i];
        for (int y = d->y; y < d->y + d->size; y++)
            for (int x = d->x; x < d->x + d->size; x++)
                if (x >= 0 && x < W && y >= 0 && y < H) {
                    pixels[y][x][0] = (uint8_t)(d->rgb >> 16);
                    pixels[y][x][1] = (uint8_t)(d->rgb >> 8);
                    pixels[y][x][2] = (uint8_t)d->rgb;
                }
    }
}

static int write_png(const char *path)
{
    FILE *f = fopen(path, "wb");
    png_structp png = f ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (f)
            fclose(f);
        fprintf(stderr, "engine: cannot write %s\n", path);
        return 1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++)
        png_write_row(png, pixels[y][0]);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0 ? 0 : 1;
}

/* A PNG's pixels as 8-bit RGB rows (w * h * 3 bytes), or NULL. */
static uint8_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return NULL;
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        png_image_free(&img);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return buf;
}

static int compare(const char *a, const char *b)
{
    uint32_t wa, ha, wb, hb;
    uint8_t *pa = read_png(a, &wa, &ha), *pb = read_png(b, &wb, &hb);
    int same = pa && pb && wa == wb && ha == hb && !memcmp(pa, pb, (size_t)wa * ha * 3);
    if (!pa || !pb)
        fprintf(stderr, "engine: cannot read %s\n", !pa ? a : b);
    free(pa);
    free(pb);
    return same ? 0 : 1;
}

static gate_module *load(gate_engine *eng, const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "engine: %s: cannot read it\n", path);
        return NULL;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    gate_error err;
    gate_module *m = gate_module_new(eng, buf, n, &err);
    if (!m)
        fprintf(stderr, "engine: %s: %s\n", path, err.message);
    return m;
}

static bool exports(const gate_module *m, const char *name)
{
    for (uint32_t i = 0; m && i < gate_module_export_count(m); i++) {
        gate_extern_desc d;
        if (gate_module_export(m, i, &d) == GATE_OK && d.name_len == strlen(name) &&
            !memcmp(d.name, name, d.name_len))
            return true;
    }
    return false;
}

static gate_pid spawn(gate_world *w, gate_module *m, const char *entry, const char *name,
                      gate_sponsor *sp, const int32_t *args, size_t nargs)
{
    gate_val v[8];
    for (size_t i = 0; i < nargs; i++) {
        v[i].type = GATE_I32;
        v[i].of.i32 = args[i];
    }
    gate_spawn s = { .module = m, .imports = script_imports(gate_world_engine(w)),
                     .own_imports = 1, .entry = entry, .args = v, .nargs = nargs, .sponsor = sp,
                     .name = name };
    gate_pid pid = 0;
    gate_error err;
    if (!s.imports || gate_world_spawn(w, &s, &pid, &err) != GATE_OK)
        fprintf(stderr, "engine: spawn %s: %s\n", name, err.message);
    return pid;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--compare"))
        return compare(argv[2], argv[3]);
    int first = 1, last = 30, save_at = 0, reload_at = 0;
    const char *png_list = "", *outdir = ".", *save_file = NULL, *load_file = NULL;
    const char *reload_mod = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
            if (sscanf(argv[++i], "%d-%d", &first, &last) != 2 || first < 1 || last < first)
                return 2;
        } else if (!strcmp(argv[i], "--png") && i + 1 < argc) {
            png_list = argv[++i];
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            outdir = argv[++i];
        } else if (!strcmp(argv[i], "--save-at") && i + 2 < argc) {
            save_at = atoi(argv[++i]);
            save_file = argv[++i];
        } else if (!strcmp(argv[i], "--load") && i + 1 < argc) {
            load_file = argv[++i];
        } else if (!strcmp(argv[i], "--reload-at") && i + 2 < argc) {
            reload_at = atoi(argv[++i]);
            reload_mod = argv[++i];
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            dir = NULL;
            break;
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: engine [--frames A-B] [--png N,N,...] [--out DIR] "
                        "[--save-at N FILE] [--load FILE]\n"
                        "              [--reload-at N NEW.wasm] SCRIPTS_DIR\n"
                        "       engine --compare A.png B.png\n");
        return 2;
    }
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;               /* slices end by fuel: the same frames everywhere */
    cfg.deterministic = 1;
    gate_error err;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    gate_world_config wc;
    gate_world_config_init(&wc);
    wc.workers = 1;
    wc.slice_fuel = SLICE_FUEL;
    wc.slice_ns = 60000000000ull;   /* time is only the watchdog's net */
    gate_world *w = NULL;
    gate_module *bouncer = load(eng, dir, "bouncer.wasm");
    gate_pid ball = 0;
    if (load_file) {
        FILE *f = fopen(load_file, "rb");
        static uint8_t *bytes;
        size_t n = 0, cap = 0;
        for (int c; f && (c = fgetc(f)) != EOF;) {
            if (n == cap && !(bytes = realloc(bytes, cap = cap ? cap * 2 : 1 << 16)))
                return 1;
            bytes[n++] = (uint8_t)c;
        }
        if (f)
            fclose(f);
        w = bytes ? gate_world_restore(eng, &wc, bytes, n, restore_imports, eng, &err) : NULL;
        free(bytes);
        if (!w) {
            fprintf(stderr, "engine: %s: %s\n", load_file, bytes ? err.message : "cannot read it");
            return 1;
        }
        gate_pid pids[64];
        size_t np = gate_world_procs(w, pids, 64);
        for (size_t i = 0; i < np; i++) {
            gate_proc_info pi;
            if (gate_world_proc(w, pids[i], &pi) == GATE_OK && !strcmp(pi.name, "ball"))
                ball = pids[i];
        }
    } else {
        gate_module *looper = load(eng, dir, "looper.wasm"), *hog = load(eng, dir, "hog.wasm");
        if (!(w = gate_world_new(eng, &wc, &err)) || !bouncer || !looper || !hog) {
            fprintf(stderr, "engine: %s\n", w ? "scripts missing" : err.message);
            return 1;
        }
        /* the scripts share 2 MiB of memory and 8 processes */
        gate_budget b;
        gate_budget_unlimited(&b);
        b.memory = 2 << 20;
        b.processes = 8;
        gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "scripts", &b, &err);
        static const int32_t balls[3][5] = { { 10, 20, 3, 2, 0xff4040 },
                                             { 80, 60, -2, 3, 0x40ff40 },
                                             { 130, 10, 4, -1, 0x4080ff } };
        ball = spawn(w, bouncer, "run", "ball", sp, balls[0], 5);
        spawn(w, bouncer, "run", "ball2", sp, balls[1], 5);
        spawn(w, bouncer, "run", "ball3", sp, balls[2], 5);
        spawn(w, looper, "run", "looper", sp, NULL, 0);
        spawn(w, hog, "run", "hog", sp, NULL, 0);
        gate_module_free(looper);
        gate_module_free(hog);
    }
    gate_world_on_end(w, on_end, NULL);
    int rc = 0;
    double longest = 0, total = 0;
    for (int frame = first; frame <= last; frame++) {
        if (frame == reload_at && reload_mod) {
            /* hot reload: the old version hands its state over and ends */
            gate_module *next = load(eng, NULL, reload_mod);
            gate_proc_info old;
            if (next && ball && gate_world_proc(w, ball, &old) == GATE_OK) {
                /* what the new version declares: the same layout (its
                   memory as it is), or an export that migrates version 1's */
                bool same = exports(bouncer, "state_layout_1") && exports(next, "state_layout_1");
                const char *entry = same ? "adopt" : exports(next, "migrate_1") ? "migrate_1" : NULL;
                nhanded = 0;
                if (entry) {
                    /* a frame's budget to hand over; one that does not is killed */
                    gate_world_send(w, ball, 2, NULL, 0);
                    gate_world_run(w, 0, FRAME_SLICES);
                }
                gate_proc_info st;
                if (gate_world_proc(w, ball, &st) == GATE_OK && st.state != GATE_PROC_DONE) {
                    gate_world_kill(w, ball);
                    gate_world_run(w, 0, FRAME_SLICES);
                }
                gate_world_reap(w, ball);
                static const int32_t fresh[5] = { 10, 20, 3, 2, 0xff4040 };
                bool keep = entry && nhanded == 20;
                ball = keep ? spawn(w, next, entry, "ball", old.sponsor, NULL, 0)
                            : spawn(w, next, "run", "ball", old.sponsor, fresh, 5);
                if (keep)
                    gate_world_send(w, ball, 3, handed, nhanded);
                fprintf(stderr, "engine: frame %d: %s reloaded, %s\n", frame, reload_mod,
                        !keep ? "started anew (it cannot take the old state)"
                        : same ? "its state kept (the same layout)"
                               : "its state migrated (migrate_1)");
            }
            gate_module_free(next);
        }
        gate_pid pids[64];
        size_t np = gate_world_procs(w, pids, 64);
        for (size_t i = 0; i < np && i < 64; i++) {
            gate_proc_info pi;
            if (gate_world_proc(w, pids[i], &pi) == GATE_OK && pi.state != GATE_PROC_DONE)
                gate_world_send(w, pids[i], 1, &frame, sizeof frame);
        }
        ndraws = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gate_world_run(w, 0, FRAME_SLICES);     /* the frame's budget, whatever they do */
        render();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        longest = ms > longest ? ms : longest;
        total += ms;
        printf("frame %d: %d draws, pixels %016llx\n", frame, ndraws,
               (unsigned long long)XXH3_64bits(pixels, sizeof pixels));
        fflush(stdout);
        char want[16];
        snprintf(want, sizeof want, ",%d,", frame);
        char list[256];
        snprintf(list, sizeof list, ",%s,", png_list);
        if (strstr(list, want)) {
            char path[4200];
            snprintf(path, sizeof path, "%s/frame-%02d.png", outdir, frame);
            rc |= write_png(path);
        }
        if (frame == save_at && save_file) {
            if (gate_world_save(w, save_file, &err) != GATE_OK) {
                fprintf(stderr, "engine: save: %s\n", err.message);
                rc = 1;
            } else {
                fprintf(stderr, "engine: frame %d: game saved to %s\n", frame, save_file);
            }
        }
    }
    /* the frame rate: what each frame cost in time (the budget is fuel,
       the same on every machine; the time is this machine's) */
    fprintf(stderr, "engine: %d frames, the longest %.2f ms, %.2f ms on average (a frame's "
            "budget: %d slices of %d units)\n", last - first + 1, longest,
            total / (last - first + 1), FRAME_SLICES, SLICE_FUEL);
    gate_world_free(w);
    gate_module_free(bouncer);
    gate_engine_free(eng);
    return rc;
}
