/*
 * world.c - a host that runs a world (docs/world.md): a "frame" loop
 * giving many scripts 2 ms each, one of which loops for ever and one of
 * which traps; the frame budget holds and the host is told of the trap.
 *   world SCRIPTS.wasm     (examples/scripts.wat)
 */
#include <stdio.h>
#include <stdlib.h>
#include <libgate.h>

static void ended(void *ud, gate_pid watcher, const gate_proc_info *p)
{
    (void)ud;
    if (!watcher)
        printf("%s ended: %s\n", p->name, p->message);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) || (*len = (size_t)ftell(f), fseek(f, 0, SEEK_SET)))
        return NULL;
    uint8_t *b = malloc(*len);
    if (b && fread(b, 1, *len, f) != *len)
        b = NULL;
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    size_t len;
    uint8_t *bytes = argc == 2 ? slurp(argv[1], &len) : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!bytes)
        return fprintf(stderr, "usage: world SCRIPTS.wasm\n"), 2;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;                                /* slices end by fuel: deterministic */
    gate_error err;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    gate_module *mod = gate_module_new(eng, bytes, len, &err);
    gate_world_config wc;
    gate_world_config_init(&wc);
    wc.workers = 1;
    wc.slice_fuel = 20000;
    gate_world *w = gate_world_new(eng, &wc, &err);
    gate_world_on_end(w, ended, NULL);
    gate_budget b;
    gate_budget_unlimited(&b);
    b.memory = 4 << 20;                          /* the scripts share 4 MiB */
    gate_sponsor *scripts = gate_sponsor_new(gate_world_root(w), "scripts", &b, &err);
    const char *entries[] = { "walker", "walker", "forever", "broken" };
    const char *names[] = { "walker-a", "walker-b", "forever", "broken" };
    gate_pid pids[4];
    for (int i = 0; i < 4; i++) {
        gate_val arg = { .type = GATE_I32, .of.i32 = 1000 * (i + 1) };
        gate_spawn s = { .module = mod, .entry = entries[i], .args = &arg,
                         .nargs = i < 2, .sponsor = scripts, .name = names[i] };
        if (gate_world_spawn(w, &s, &pids[i], &err) != GATE_OK)
            return fprintf(stderr, "spawn: %s\n", err.message), 1;
    }
    /* frames of 2 ms until the scripts that end have ended */
    for (int frame = 0; frame < 100000; frame++) {
        gate_world_run(w, 2000000, 0);           /* this frame's 2 ms */
        gate_proc_info p0, p1, p3;
        gate_world_proc(w, pids[0], &p0);
        gate_world_proc(w, pids[1], &p1);
        gate_world_proc(w, pids[3], &p3);
        if (p0.state == GATE_PROC_DONE && p1.state == GATE_PROC_DONE &&
            p3.state == GATE_PROC_DONE)
            break;
    }
    gate_proc_info p;
    gate_world_proc(w, pids[2], &p);
    printf("forever is %s: preempted at the end of each slice, frames go on\n",
           gate_proc_state_name(p.state));
    gate_world_free(w);                          /* ends the one that loops */
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    return 0;
}
