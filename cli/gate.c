/*
 * gate.c - the `gate` command line.
 *
 *   gate inspect FILE.wasm     imports, exports, memory, tables, sizes, hash
 *   gate validate FILE.wasm    decode + validate; exit 0 when valid
 *   gate dump FILE.wasm        every instruction with its offset and the
 *                              operand-stack types validation computed
 *   gate run, compile, resume, objdump: see usage_text below
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "../snapshot/snapshot.h"

static const char usage_text[] =
    "usage: gate <command> [options] FILE [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  run [options] PROG.wasm [ARGS...]\n"
    "                         run a WASI command (_start); exit status is the\n"
    "                         program's, 134 after a trap (printed with a backtrace)\n"
    "      --invoke NAME      call export NAME instead, ARGS parsed by its types\n"
    "      --dir HOST[::GUEST] preopen a directory; --env KEY=VALUE; \n"
    "      --tcplisten HOST:PORT a listening socket the program accepts on;\n"
    "      --max-memory-pages N; --stack-size BYTES; --explicit-bounds;\n"
    "      --cache-dir DIR; --no-cache\n"
    "                         (compiled code is cached by module hash)\n"
    "      --suspend-after=DURATION --snapshot=FILE   stop after DURATION (250ms,\n"
    "                         2s, ...) or on SIGINT/SIGTERM, save, exit with 75\n"
    "      --fuel=N --snapshot=FILE   stop after N units of work (deterministic)\n"
    "      --name-object=OBJ  snapshots name OBJ (gate compile --target ...) as the\n"
    "                         code to resume with on its CPU type\n"
    "      --no-loop-checks   no stop checks at loop headers (measurement only)\n"
    "      --deterministic    canonical NaN results: the same bits on every CPU\n"
    "      --fork PROG.zygote [ARGS...]   a child of a zygote (gate init) with\n"
    "                         the arguments, environment and --dir given now\n"
    "  init [--init=EXPORT | --until-import=MODULE.NAME] [--trap] PROG.wasm\n"
    "       -o PROG.zygote    initialise once with no authorities (_start until\n"
    "                         its first WASI or host call) and save it as a zygote\n"
    "  resume [--suspend-after=DUR] [--fuel=N] [--deterministic] [--snapshot=FILE2]\n"
    "         [--object=OBJ] FILE\n"
    "                         continue a program saved by run --snapshot\n"
    "  world [--workers N] [--slices N] [--run-for DUR] [--save FILE] [--status]\n"
    "        MANIFEST.json   run the processes a manifest lists in one world\n"
    "                         (docs/world.md); stopped, the whole world is saved\n"
    "  world --resume FILE [options] [MANIFEST.json]\n"
    "                         continue a saved world (the manifest grants dirs)\n"
    "  compile [--target x86_64|arm64] [--explicit-bounds] [--fuel] [--deterministic]\n"
    "          PROG.wasm -o PROG.gobj\n"
    "                         ahead-of-time compilation to an object that loads\n"
    "                         without compiling (run, inspect, objdump take it)\n"
    "  inspect FILE           summary of a module, object or snapshot: types,\n"
    "                         imports, exports, memory, tables, functions, data,\n"
    "                         custom sections, hash; a snapshot's stopped frames\n"
    "  validate FILE.wasm     decode and validate; exit status 0 when valid,\n"
    "                         1 with \"offset: func: what\" when not\n"
    "  dump FILE.wasm         every instruction of every function with its byte\n"
    "                         offset and the operand-stack types after it\n"
    "  objdump [--target x86_64|arm64] FILE\n"
    "                         the machine code the compiler makes (for this CPU,\n"
    "                         or for --target), annotated with function names,\n"
    "                         safe points and trap sites; the instruction count\n"
    "  help                   this text\n"
    "  version                libgate's version\n"
    "\n"
    "Exit status: 0 success, 1 the module was rejected, 2 usage or I/O error;\n"
    "run/resume: the program's own, 134 after a trap, 75 when stopped and saved.\n";

static int usage(FILE *f)
{
    fputs(usage_text, f);
    return f == stderr ? 2 : 0;
}

/* Reads a whole file; refuses what is not a regular file or is too big. */
int cli_object_target(const char *path)
{
    size_t n = 0;
    uint8_t *h = cli_read_file(path, &n);
    if (!h)
        return -1;
    uint32_t t = n >= 16 ? (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 |
                           (uint32_t)h[15] << 24 : 0;
    bool bad = n < 16 || memcmp(h, "GATEOBJ", 8) || (t != GATE_TARGET_X86_64 && t != GATE_TARGET_ARM64);
    free(h);
    if (bad) {
        fprintf(stderr, "gate: %s: not a libgate object for x86_64 or arm64\n", path);
        return -1;
    }
    return (int)t;
}

uint8_t *cli_read_file(const char *path, size_t *len)
{
    /* O_NONBLOCK: a FIFO or a device is refused here, never waited on */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "gate: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "gate: %s: not a regular file (a FIFO, device or directory is not read)\n",
                path);
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, 0);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        fprintf(stderr, "gate: %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > GD_DEF_MODULE_SIZE) {
        fprintf(stderr, "gate: %s: %lld bytes is larger than the %u-byte limit\n", path,
                (long long)st.st_size, GD_DEF_MODULE_SIZE);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "gate: %s: read failed\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

void cli_report(const char *path, const gate_error *err)
{
    char msg[512];
    /* a refused frame names itself: frame N (func F at wasm offset X) */
    if (err->status == GATE_ERR_SNAPSHOT && !strncmp(err->message, "frame ", 6))
        fprintf(stderr, "gate: %s: %s\n", path, err->message);
    else
        fprintf(stderr, "gate: %s: %s\n", path, gate_error_format(err, msg, sizeof msg));
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case GT_I32: return "i32";
    case GT_I64: return "i64";
    case GT_F32: return "f32";
    case GT_F64: return "f64";
    case GT_V128: return "v128";
    case GT_FUNCREF: return "funcref";
    case GT_EXTERNREF: return "externref";
    }
    return "?";
}

static void print_limits(const gd_limits *l)
{
    if (l->max == UINT64_MAX)
        printf("min %llu, no max", (unsigned long long)l->min);
    else
        printf("min %llu, max %llu", (unsigned long long)l->min, (unsigned long long)l->max);
}

static void print_extern(const gd_module *m, uint8_t kind, uint32_t index)
{
    char sig[64];
    switch (kind) {
    case GATE_EXTERN_FUNC:
        printf("func %u %s", index, gd_sig_string(gd_func_type(m, index), sig, sizeof sig));
        break;
    case GATE_EXTERN_TABLE:
        printf("table %u %s ", index, type_name(m->tables[index].elem));
        print_limits(&m->tables[index].lim);
        break;
    case GATE_EXTERN_MEMORY:
        printf("memory %u pages ", index);
        print_limits(&m->mems[index].lim);
        break;
    default:
        printf("global %u %s%s", index, m->globals[index].mut ? "mut " : "",
               type_name(m->globals[index].type));
        break;
    }
}

static int cmd_inspect(gate_engine *eng, const char *path, const uint8_t *bytes, size_t len)
{
    gate_error err;
    gate_module *mod = cli_load(eng, bytes, len, &err);
    if (!mod) {
        cli_report(path, &err);
        return 1;
    }
    const gd_module *m = &mod->info;
    uint64_t code = 0, data = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        code += m->funcs[i].body_len;
    for (uint32_t i = 0; i < m->ndata; i++)
        data += m->data[i].len;
    printf("%s   %s\n", mod->from_object ? "object" : "module", path);
    if (mod->from_object)
        printf("target   x86_64, compiled ahead of time (%zu bytes of code, %u safe points, "
               "%u trap sites)\n", mod->code.size, mod->code.nsp, mod->code.ntraps);
    printf("size     %zu bytes%s\n", len, mod->from_object ? " (object)" : "");
    printf("hash     xxh64:%016llx\n", (unsigned long long)gate_module_hash(mod));
    printf("types    %u\n", m->ntypes);
    printf("funcs    %u (%u imported, %u defined, %llu bytes of code)\n", m->nfuncs,
           m->nfunc_imports, m->nfuncs - m->nfunc_imports, (unsigned long long)code);
    printf("tables   %u\n", m->ntables);
    printf("memories %u\n", m->nmems);
    printf("globals  %u\n", m->nglobals);
    printf("elems    %u segments\n", m->nelems);
    printf("data     %u segments, %llu bytes\n", m->ndata, (unsigned long long)data);
    if (m->has_start)
        printf("start    func %u\n", m->start);
    printf("imports  %u\n", m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        printf("  %s.%s: ", m->imports[i].module, m->imports[i].name);
        print_extern(m, m->imports[i].kind, m->imports[i].index);
        putchar('\n');
    }
    printf("exports  %u\n", m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        printf("  %s: ", m->exports[i].name);
        print_extern(m, m->exports[i].kind, m->exports[i].index);
        putchar('\n');
    }
    for (uint32_t i = 0; i < m->nmems; i++) {
        printf("memory %u: ", i);
        print_limits(&m->mems[i].lim);
        printf(" pages (64 KiB)%s\n", i < m->nmem_imports ? ", imported" : "");
    }
    for (uint32_t i = 0; i < m->ntables; i++) {
        printf("table %u: %s ", i, type_name(m->tables[i].elem));
        print_limits(&m->tables[i].lim);
        printf("%s\n", i < m->ntable_imports ? ", imported" : "");
    }
    if (m->ncustom) {
        printf("custom   %u sections:", m->ncustom);
        for (uint32_t i = 0; i < m->ncustom; i++)
            printf(" \"%s\" (%u bytes)", m->custom[i].name, m->custom[i].len);
        putchar('\n');
    }
    printf("status   valid\n");
    gs_describe(stdout, mod);
    gate_module_free(mod);
    return 0;
}

static int cmd_validate(gate_engine *eng, const char *path, const uint8_t *bytes, size_t len)
{
    gate_error err;
    if (gate_validate(eng, bytes, len, &err) != GATE_OK) {
        cli_report(path, &err);
        return 1;
    }
    printf("%s: valid\n", path);
    return 0;
}

/* The immediate of an instruction, as text, for the dump. */
static int print_imm(const gd_module *m, const gv_insn *ins)
{
    const gop_info *oi = &gop_table[ins->op];
    int n = 0;
    switch ((gimm)oi->imm) {
    case GIMM_LABEL: case GIMM_LOCAL: case GIMM_GLOBAL: case GIMM_TABLE:
    case GIMM_DATA: case GIMM_ELEM:
        n += printf(" %u", ins->imm.index);
        break;
    case GIMM_FUNC: {
        const char *name = gd_func_name(m, ins->imm.index);
        n += printf(" %u", ins->imm.index);
        if (name)
            n += printf(" <%s>", name);
        break;
    }
    case GIMM_CALLIND:
        n += printf(" type %u table %u", ins->imm.callind.type, ins->imm.callind.table);
        break;
    case GIMM_BRTABLE:
        for (uint32_t i = 0; i <= ins->imm.brtable.count && i < 8; i++)
            n += printf(" %u", ins->imm.brtable.targets[i]);
        if (ins->imm.brtable.count >= 8)
            n += printf(" ... %u", ins->imm.brtable.targets[ins->imm.brtable.count]);
        break;
    case GIMM_I32:
        n += printf(" %d", ins->imm.i32);
        break;
    case GIMM_I64:
        n += printf(" %lld", (long long)ins->imm.i64);
        break;
    case GIMM_F32: {
        float f;
        memcpy(&f, &ins->imm.f32, 4);
        n += printf(" %g", (double)f);
        break;
    }
    case GIMM_F64: {
        double d;
        memcpy(&d, &ins->imm.f64, 8);
        n += printf(" %g", d);
        break;
    }
    case GIMM_MEMARG: case GIMM_MEMARG_LANE:
        n += printf(" offset=%u align=%u", ins->imm.mem.offset, 1u << (ins->imm.mem.align & 31));
        break;
    case GIMM_LANE:
        n += printf(" %u", ins->imm.lane);
        break;
    case GIMM_REFTYPE: case GIMM_SELECT_T:
        n += printf(" %s", type_name(ins->imm.type));
        break;
    case GIMM_TABLEINIT: case GIMM_TABLECOPY:
        n += printf(" %u %u", ins->imm.pair.a, ins->imm.pair.b);
        break;
    case GIMM_MEMINIT:
        n += printf(" %u", ins->imm.pair.a);
        break;
    default:
        break;
    }
    return n;
}

static void print_stack(const gv_func *v)
{
    printf("  [");
    for (uint32_t i = 0; i < v->nvals; i++)
        printf("%s%s", i ? " " : "", type_name(v->vals[i]));
    printf("]");
}

static int cmd_dump(gate_engine *eng, const char *path, const uint8_t *bytes, size_t len)
{
    gate_error err;
    gate_module *mod = cli_load(eng, bytes, len, &err);
    if (!mod) {
        cli_report(path, &err);
        return 1;
    }
    const gd_module *m = &mod->info;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        char sig[128];
        gv_func v;
        gv_insn ins;
        int st;
        if (!gv_begin(&v, m, &eng->alloc, &eng->lim, f, &err)) {
            cli_report(path, &err);
            gate_module_free(mod);
            return 1;
        }
        const char *name = gd_func_name(m, f);
        printf("func %u%s%s%s %s  ;; body at 0x%llx, %u locals:", f, name ? " <" : "",
               name ? name : "", name ? ">" : "", gd_sig_string(gd_func_type(m, f), sig, sizeof sig),
               (unsigned long long)m->funcs[f].body_off, v.nlocals);
        for (uint32_t i = 0; i < v.nlocals; i++)
            printf(" %s", type_name(v.locals[i]));
        putchar('\n');
        unsigned depth = v.nctrls;
        while ((st = gv_next(&v, &ins)) > 0) {
            const gop_info *oi = &gop_table[ins.op];
            unsigned indent = depth - (ins.op == GOP_END || ins.op == GOP_ELSE);
            int col = printf("  %06llx %*s%s", (unsigned long long)ins.offset,
                             (int)(2 * indent), "", oi->name);
            col += print_imm(m, &ins);
            depth = v.nctrls;
            printf("%*s;;", col < 48 ? 48 - col : 1, "");
            print_stack(&v);
            putchar('\n');
        }
        printf("  ;; max operand depth %u, max block depth %u\n", v.maxvals, v.maxctrls);
        gv_end(&v);
        if (st < 0) {
            cli_report(path, &err);
            gate_module_free(mod);
            return 1;
        }
    }
    gate_module_free(mod);
    return 0;
}

/* Native code of every function, with safe points and trap sites marked:
   the host's (the module's own, or an object's), or with --target another
   CPU's, compiled here by that backend. */
static gate_target objdump_target = GATE_TARGET_HOST;

static int cmd_objdump(gate_engine *eng, const char *path, const uint8_t *bytes, size_t len)
{
    static const char *const trap_names[] = {
        "", "unreachable", "memory out of bounds", "table out of bounds", "null funcref",
        "signature mismatch", "divide by zero", "integer overflow", "invalid conversion",
        "stack exhausted", "uninitialized element", "host" };
    gate_error err;
    gate_module *mod = cli_load(eng, bytes, len, &err);
    if (!mod) {
        cli_report(path, &err);
        return 1;
    }
    gate_target t = objdump_target == GATE_TARGET_HOST ? RT_HOST_TARGET : objdump_target;
    const gd_module *m = &mod->info;
    const gc_code *code = &mod->code;
    gc_code cross;
    bool own = false;
    if (t != RT_HOST_TARGET) {
        if (mod->from_object) {
            fprintf(stderr, "gate: %s: an object holds code for its own CPU; --target takes "
                    "a .wasm module\n", path);
            gate_module_free(mod);
            return 2;
        }
        gate_error cerr = { .status = GATE_OK, .offset = UINT64_MAX, .func_index = GATE_NO_FUNC };
        gc_options opt = { .cpu_features = 0 };
        const gc_backend *be = t == GATE_TARGET_ARM64 ? &gc_backend_arm64 : &gc_backend_x86_64;
        if (!gc_compile(m, be, &eng->alloc, &eng->lim, &opt, &cross, &cerr)) {
            cli_report(path, &cerr);
            gate_module_free(mod);
            return 1;
        }
        code = &cross;
        own = true;
    } else if (!mod->exec) {
        cli_report(path, &mod->compile_err);
        gate_module_free(mod);
        return 1;
    }
    const char *isa = t == GATE_TARGET_ARM64 ? "arm64" : "x86_64";
    csh cs;
    if ((t == GATE_TARGET_ARM64 ? cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs)
                                : cs_open(CS_ARCH_X86, CS_MODE_64, &cs)) != CS_ERR_OK) {
        fprintf(stderr, "gate: capstone is not available\n");
        if (own)
            gc_code_free(&cross);
        gate_module_free(mod);
        return 2;
    }
    uint32_t sp = 0, tp = 0;
    uint64_t ninsn = 0;
    printf("%s: %s, %zu bytes of code, %u safe points, %u trap sites\n", path, isa, code->size,
           code->nsp, code->ntraps);
    for (uint32_t i = 0; i < code->nfuncs; i++) {
        uint32_t f = m->nfunc_imports + i;
        size_t start = code->func_off[i];
        size_t end = i + 1 < code->nfuncs ? code->func_off[i + 1] : code->size;
        const char *name = gd_func_name(m, f);
        char sig[128];
        printf("\nfunc %u%s%s%s %s:\n", f, name ? " <" : "", name ? name : "", name ? ">" : "",
               gd_sig_string(gd_func_type(m, f), sig, sizeof sig));
        /* a br_table's jump table sits in the code: what does not decode
           is shown as data, and the walk goes on after it */
        size_t at = start;
        while (at < end) {
            cs_insn *insn;
            size_t n = cs_disasm(cs, code->code + at, end - at, at, 0, &insn);
            for (size_t k = 0; k < n; k++) {
                uint32_t pc = (uint32_t)insn[k].address;
                uint32_t next = pc + insn[k].size;
                while (tp < code->ntraps && code->traps[tp].native < pc)
                    tp++;
                printf("  %06x  %-8s %-40s", pc, insn[k].mnemonic, insn[k].op_str);
                if (tp < code->ntraps && code->traps[tp].native == pc)
                    printf(" ; trap: %s @wasm 0x%x", trap_names[code->traps[tp].code % 12],
                           code->traps[tp].wasm);
                while (sp < code->nsp && code->sp[sp].native < next)
                    sp++;
                if (sp < code->nsp && code->sp[sp].native == next)
                    printf(" ; safe point @wasm 0x%x, %u slots", code->sp[sp].wasm,
                           code->sp[sp].nslots);
                putchar('\n');
                at = next;
            }
            ninsn += n;
            if (n)
                cs_free(insn, n);
            if (at < end) {
                size_t w = end - at < 4 ? end - at : 4;
                uint32_t v = 0;
                memcpy(&v, code->code + at, w);
                if (t == GATE_TARGET_ARM64 && w == 4 && v >> 16 == 0) {
                    /* capstone 4 does not name udf, the ARM64 trap site */
                    printf("  %06zx  %-8s #%-39u", at, "udf", v);
                    while (tp < code->ntraps && code->traps[tp].native < at)
                        tp++;
                    if (tp < code->ntraps && code->traps[tp].native == at)
                        printf(" ; trap: %s @wasm 0x%x", trap_names[code->traps[tp].code % 12],
                               code->traps[tp].wasm);
                    putchar('\n');
                    ninsn++;
                } else {
                    printf("  %06zx  .data    0x%0*x\n", at, (int)(2 * w), v);
                }
                at += w;
            }
        }
    }
    printf("\n%s: %llu instructions in %u functions\n", isa, (unsigned long long)ninsn,
           code->nfuncs);
    cs_close(&cs);
    if (own)
        gc_code_free(&cross);
    gate_module_free(mod);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return usage(stdout);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("gate %s\n", gate_version());
        return 0;
    }
    int (*fn)(gate_engine *, const char *, const uint8_t *, size_t) = NULL;
    if (!strcmp(cmd, "inspect"))
        fn = cmd_inspect;
    else if (!strcmp(cmd, "validate"))
        fn = cmd_validate;
    else if (!strcmp(cmd, "dump"))
        fn = cmd_dump;
    else if (!strcmp(cmd, "objdump"))
        fn = cmd_objdump;
    else if (!strcmp(cmd, "run"))
        return cli_run(argc, argv);
    else if (!strcmp(cmd, "compile"))
        return cli_compile(argc, argv);
    else if (!strcmp(cmd, "resume"))
        return cli_resume(argc, argv);
    else if (!strcmp(cmd, "init"))
        return cli_init(argc, argv);
    else if (!strcmp(cmd, "world"))
        return cli_world(argc, argv);
    else {
        fprintf(stderr, "gate: unknown command '%s'\n\n", cmd);
        return usage(stderr);
    }
    if (fn == cmd_objdump && argc == 5 && !strcmp(argv[2], "--target")) {
        if (!strcmp(argv[3], "x86_64")) {
            objdump_target = GATE_TARGET_X86_64;
        } else if (!strcmp(argv[3], "arm64")) {
            objdump_target = GATE_TARGET_ARM64;
        } else {
            fprintf(stderr, "gate objdump: unknown target '%s' (x86_64 or arm64)\n", argv[3]);
            return 2;
        }
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        fprintf(stderr, "gate %s: expected exactly one FILE\n\n", cmd);
        return usage(stderr);
    }
    size_t len = 0;
    uint8_t *bytes = cli_read_file(argv[2], &len);
    if (!bytes)
        return 2;
    gate_error err;
    gate_engine *eng = gate_engine_new(NULL, &err);
    if (!eng) {
        cli_report(argv[2], &err);
        free(bytes);
        return 2;
    }
    int rc = fn(eng, argv[2], bytes, len);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
