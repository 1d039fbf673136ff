/*
 * unit_x86_encode.c - every x86-64 encoder against capstone's disassembly:
 * all 16 registers (REX.R/X/B), the rsp/r12 (SIB) and rbp/r13 (disp8)
 * special bases, and displacements/immediates at 0, +-1, the 8-bit edges
 * and the 32-bit edges.
 */
#include <capstone/capstone.h>
#include <stdio.h>

#include "unit.h"
#include "../codegen-x86_64/x86_64.h"

static csh cs;
static gc_buf buf;
static long checked;

static const char *const r64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                     "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const r32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                     "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d",
                                     "r15d" };
static const char *const r16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w",
                                     "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" };
static const char *const r8n[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b",
                                     "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" };
static const int32_t disps[] = { 0, 1, -1, 127, -128, 128, -129, INT32_MAX, INT32_MIN };
static const int32_t imms[] = { 0, 1, -1, 127, -128, 128, -129, INT32_MAX, INT32_MIN };


static void mem(char *out, size_t n, const char *size, xmem m)
{
    char d[32] = "";
    char idx[32] = "";
    if (m.index >= 0)
        snprintf(idx, sizeof idx, m.scale == 1 ? " + %s" : " + %s*%d", r64[m.index], m.scale);
    if (m.disp) {
        uint64_t mag = m.disp < 0 ? (uint64_t)0 - (uint64_t)(int64_t)m.disp : (uint64_t)m.disp;
        num(d + 3, sizeof d - 3, (int64_t)mag);
        memcpy(d, m.disp < 0 ? " - " : " + ", 3);
    }
    snprintf(out, n, "%s%s[%s%s%s]", size, size[0] ? " ptr " : "", r64[m.base], idx, d);
}

/* Disassembles exactly one instruction from buf and compares its text. */
static void expect(const char *want)
{
    cs_insn *insn;
    size_t count = cs_disasm(cs, buf.p, buf.n, 0x1000, 0, &insn);
    char got[300] = "(nothing)";
    size_t len = 0;
    if (count >= 1) {
        snprintf(got, sizeof got, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
                 insn[0].op_str);
        len = insn[0].size;
    }
    if (count != 1 || len != buf.n || strcmp(got, want)) {
        char hex[100] = "";
        for (size_t i = 0; i < buf.n && i < 30; i++)
            snprintf(hex + 3 * i, 4, "%02x ", buf.p[i]);
        size_t n = buf.n;
        buf.n = 0;
        if (count)
            cs_free(insn, count);
        fail_msg("want \"%s\", got \"%s\" (%zu insns, %zu of %zu bytes): %s", want, got, count,
                 len, n, hex);
    }
    if (count)
        cs_free(insn, count);
    buf.n = 0;
    checked++;
}

static int setup(void **state)
{
    (void)state;
    gx_alloc a = { NULL, NULL };
    (void)a;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return -1;
    buf.p = malloc(4096);
    buf.cap = 4096;
    buf.n = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_close(&cs);
    free(buf.p);
    printf("x86-64: %ld encodings checked against capstone\n", checked);
    return 0;
}

static const char *const alu_names[8] = { "add", "or", "", "", "and", "sub", "xor", "cmp" };
static const int alu_ops[] = { ALU_ADD, ALU_OR, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

static void alu(void **state)
{
    (void)state;
    char want[128], m[64], v[32];
    for (size_t k = 0; k < sizeof alu_ops / sizeof alu_ops[0]; k++) {
        int op = alu_ops[k];
        for (int w = 0; w < 2; w++) {
            const char *const *R = w ? r64 : r32;
            for (int d = 0; d < 16; d++) {
                for (int s = 0; s < 16; s++) {
                    x_alu_rr(&buf, op, w, d, s);
                    snprintf(want, sizeof want, "%s %s, %s", alu_names[op], R[d], R[s]);
                    expect(want);
                }
                for (size_t i = 0; i < sizeof imms / sizeof imms[0]; i++) {
                    x_alu_ri(&buf, op, w, d, imms[i]);
                    /* capstone shows a 32-bit operation's imm32 as unsigned,
                       and a sign-extended imm8 as signed */
                    bool i8 = imms[i] >= -128 && imms[i] <= 127;
                    bool logical = op == ALU_OR || op == ALU_AND || op == ALU_XOR;
                    int64_t shown = w || (i8 && !logical) ? imms[i] : (int64_t)(uint32_t)imms[i];
                    /* ... and a logical op's negative immediate as unsigned */
                    if (logical && w && shown < 0)
                        snprintf(v, sizeof v, "0x%llx", (unsigned long long)shown);
                    else
                        num(v, sizeof v, shown);
                    snprintf(want, sizeof want, "%s %s, %s", alu_names[op], R[d], v);
                    expect(want);
                }
                for (int base = 0; base < 16; base++) {
                    for (size_t i = 0; i < sizeof disps / sizeof disps[0] && d == 0; i++) {
                        /* op [m], imm: every base and displacement, two immediates */
                        for (int j = 0; j < 2; j++) {
                            int32_t imm = j ? 1000 : -1;
                            xmem mm = xm(base, disps[i]);
                            x_alu_mi(&buf, op, w, mm, imm);
                            mem(m, sizeof m, w ? "qword" : "dword", mm);
                            bool logical = op == ALU_OR || op == ALU_AND || op == ALU_XOR;
                            /* capstone shows a logical op's -1 as unsigned */
                            if (imm == -1 && logical)
                                snprintf(v, sizeof v, w ? "0xffffffffffffffff" : "0xffffffff");
                            else
                                num(v, sizeof v, imm);
                            snprintf(want, sizeof want, "%s %s, %s", alu_names[op], m, v);
                            expect(want);
                        }
                    }
                    for (size_t i = 0; i < sizeof disps / sizeof disps[0]; i++) {
                        xmem mm = xm(base, disps[i]);
                        x_alu_rm(&buf, op, w, d, mm);
                        mem(m, sizeof m, w ? "qword" : "dword", mm);
                        snprintf(want, sizeof want, "%s %s, %s", alu_names[op], R[d], m);
                        expect(want);
                    }
                }
            }
        }
    }
}

static void moves(void **state)
{
    (void)state;
    char want[128], m[64], v[32];
    static const int64_t wide[] = { 0, 1, -1, INT32_MAX, INT32_MIN, UINT32_MAX,
                                    (int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN };
    for (int d = 0; d < 16; d++) {
        for (int s = 0; s < 16; s++) {
            x_mov_rr(&buf, 1, d, s);
            snprintf(want, sizeof want, "mov %s, %s", r64[d], r64[s]);
            expect(want);
            x_mov_rr(&buf, 0, d, s);
            snprintf(want, sizeof want, "mov %s, %s", r32[d], r32[s]);
            expect(want);
            x_test_rr(&buf, 1, d, s);
            snprintf(want, sizeof want, "test %s, %s", r64[d], r64[s]);
            expect(want);
        }
        for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
            x_mov_ri(&buf, 1, d, wide[i]);
            int64_t v64 = wide[i];
            bool as32 = v64 >= 0 && v64 <= (int64_t)UINT32_MAX;
            bool movabs = !as32 && (v64 < INT32_MIN || v64 > INT32_MAX);
            /* capstone prints movabs immediates as unsigned */
            if (movabs)
                snprintf(v, sizeof v, "0x%llx", (unsigned long long)v64);
            else
                num(v, sizeof v, v64);
            if (as32)
                snprintf(want, sizeof want, "mov %s, %s", r32[d], v);
            else
                snprintf(want, sizeof want, "%s %s, %s", movabs ? "movabs" : "mov", r64[d], v);
            expect(want);
        }
        /* every base, every index (rsp cannot be an index), every scale */
        for (int base = 0; base < 16; base++) {
            for (size_t i = 0; i < sizeof disps / sizeof disps[0]; i++) {
                xmem mm = xm(base, disps[i]);
                x_load(&buf, LD_64, 1, d, mm);
                mem(m, sizeof m, "qword", mm);
                snprintf(want, sizeof want, "mov %s, %s", r64[d], m);
                expect(want);
                x_store(&buf, 4, d, mm);
                mem(m, sizeof m, "dword", mm);
                snprintf(want, sizeof want, "mov %s, %s", m, r32[d]);
                expect(want);
                x_load(&buf, LD_U32, 1, d, mm);
                snprintf(want, sizeof want, "mov %s, %s", r32[d], m);
                expect(want);
                x_store(&buf, 8, d, mm);
                mem(m, sizeof m, "qword", mm);
                snprintf(want, sizeof want, "mov %s, %s", m, r64[d]);
                expect(want);
                x_lea(&buf, 1, d, mm);
                mem(m, sizeof m, "", mm);
                snprintf(want, sizeof want, "lea %s, %s", r64[d], m);
                expect(want);
            }
            for (int idx = 0; idx < 16; idx++) {
                if (idx == RSP)
                    continue;
                for (int sc = 1; sc <= 8; sc *= 2) {
                    xmem mm = xmi(base, idx, sc, sc == 2 ? 0x1000 : sc == 4 ? -4 : 0);
                    x_load(&buf, LD_U32, 0, d, mm);
                    mem(m, sizeof m, "dword", mm);
                    snprintf(want, sizeof want, "mov %s, %s", r32[d], m);
                    expect(want);
                }
            }
        }
    }
}

static void loads_stores_by_size(void **state)
{
    (void)state;
    char want[128], m[64], v[32];
    for (int d = 0; d < 16; d++) {
        xmem mm = xmi(R14, d == RSP ? RAX : d, 1, 0x7fffffff);
        mem(m, sizeof m, "byte", mm);
        x_load(&buf, LD_U8, 0, d, mm);
        snprintf(want, sizeof want, "movzx %s, %s", r32[d], m);
        expect(want);
        x_load(&buf, LD_S8, 1, d, mm);
        snprintf(want, sizeof want, "movsx %s, %s", r64[d], m);
        expect(want);
        x_store(&buf, 1, d, mm);
        snprintf(want, sizeof want, "mov %s, %s", m, r8n[d]);
        expect(want);
        mem(m, sizeof m, "word", mm);
        x_load(&buf, LD_U16, 0, d, mm);
        snprintf(want, sizeof want, "movzx %s, %s", r32[d], m);
        expect(want);
        x_load(&buf, LD_S16, 0, d, mm);
        snprintf(want, sizeof want, "movsx %s, %s", r32[d], m);
        expect(want);
        x_store(&buf, 2, d, mm);
        snprintf(want, sizeof want, "mov %s, %s", m, r16[d]);
        expect(want);
        mem(m, sizeof m, "dword", mm);
        x_load(&buf, LD_S32, 1, d, mm);
        snprintf(want, sizeof want, "movsxd %s, %s", r64[d], m);
        expect(want);
        mem(m, sizeof m, "qword", mm);
        x_store(&buf, 8, d, mm);
        snprintf(want, sizeof want, "mov %s, %s", m, r64[d]);
        expect(want);
        for (size_t i = 0; i < sizeof imms / sizeof imms[0]; i++) {
            xmem sm = xm(d, imms[i]);
            x_store_i32(&buf, 8, imms[i], sm);
            mem(m, sizeof m, "qword", sm);
            num(v, sizeof v, imms[i]);
            snprintf(want, sizeof want, "mov %s, %s", m, v);
            expect(want);
        }
    }
}

static void arith(void **state)
{
    (void)state;
    char want[128], v[32];
    static const char *const shn[8] = { "rol", "ror", "", "", "shl", "shr", "", "sar" };
    static const int shops[] = { SH_ROL, SH_ROR, SH_SHL, SH_SHR, SH_SAR };
    for (int w = 0; w < 2; w++) {
        const char *const *R = w ? r64 : r32;
        for (int d = 0; d < 16; d++) {
            for (size_t k = 0; k < 5; k++) {
                x_shift_cl(&buf, shops[k], w, d);
                snprintf(want, sizeof want, "%s %s, cl", shn[shops[k]], R[d]);
                expect(want);
                x_shift_ri(&buf, shops[k], w, d, 31);
                snprintf(want, sizeof want, "%s %s, 0x1f", shn[shops[k]], R[d]);
                expect(want);
            }
            x_div(&buf, w, 0, d);
            snprintf(want, sizeof want, "div %s", R[d]);
            expect(want);
            x_div(&buf, w, 1, d);
            snprintf(want, sizeof want, "idiv %s", R[d]);
            expect(want);
            x_neg(&buf, w, d);
            snprintf(want, sizeof want, "neg %s", R[d]);
            expect(want);
            x_not(&buf, w, d);
            snprintf(want, sizeof want, "not %s", R[d]);
            expect(want);
            x_setcc(&buf, CC_E, d);
            snprintf(want, sizeof want, "sete %s", r8n[d]);
            expect(want);
            x_push(&buf, d);
            snprintf(want, sizeof want, "push %s", r64[d]);
            expect(want);
            x_pop(&buf, d);
            snprintf(want, sizeof want, "pop %s", r64[d]);
            expect(want);
            x_call_r(&buf, d);
            snprintf(want, sizeof want, "call %s", r64[d]);
            expect(want);
            x_jmp_r(&buf, d);
            snprintf(want, sizeof want, "jmp %s", r64[d]);
            expect(want);
            for (int s = 0; s < 16; s++) {
                x_imul_rr(&buf, w, d, s);
                snprintf(want, sizeof want, "imul %s, %s", R[d], R[s]);
                expect(want);
                for (size_t i = 0; i < sizeof imms / sizeof imms[0]; i++) {
                    x_imul_rri(&buf, w, d, s, imms[i]);
                    bool i8 = imms[i] >= -128 && imms[i] <= 127;
                    num(v, sizeof v, w || i8 ? imms[i] : (int64_t)(uint32_t)imms[i]);
                    snprintf(want, sizeof want, "imul %s, %s, %s", R[d], R[s], v);
                    expect(want);
                }
                x_bitcount(&buf, 0xbd, w, d, s);
                snprintf(want, sizeof want, "lzcnt %s, %s", R[d], R[s]);
                expect(want);
                x_bitcount(&buf, 0xbc, w, d, s);
                snprintf(want, sizeof want, "tzcnt %s, %s", R[d], R[s]);
                expect(want);
                x_bitcount(&buf, 0xb8, w, d, s);
                snprintf(want, sizeof want, "popcnt %s, %s", R[d], R[s]);
                expect(want);
                x_bsr_bsf(&buf, 1, w, d, s);
                snprintf(want, sizeof want, "bsr %s, %s", R[d], R[s]);
                expect(want);
                x_cmov(&buf, CC_L, w, d, s);
                snprintf(want, sizeof want, "cmovl %s, %s", R[d], R[s]);
                expect(want);
                x_movzx8(&buf, d, s);
                snprintf(want, sizeof want, "movzx %s, %s", r32[d], r8n[s]);
                expect(want);
                x_movsx(&buf, 2, w, d, s);
                snprintf(want, sizeof want, "movsx %s, %s", R[d], r16[s]);
                expect(want);
            }
        }
        x_cdq(&buf, w);
        expect(w ? "cqo" : "cdq");
    }
    x_ret(&buf);
    expect("ret");
    x_ud2(&buf);
    expect("ud2");
}

static void branches(void **state)
{
    (void)state;
    static const char *const ccn[16] = { "jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                         "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg" };
    char want[64];
    /* targets at the rel32 edges, relative to the end of the instruction */
    static const int64_t rel[] = { 0, 1, -1, 127, -128, INT32_MAX, INT32_MIN };
    for (int cc = 0; cc < 16; cc++) {
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            size_t f = x_jcc32(&buf, cc);
            /* patch with a target relative to this buffer; capstone's address is 0x1000 */
            uint32_t r = (uint32_t)rel[i];
            memcpy(buf.p + f, &r, 4);
            snprintf(want, sizeof want, "%s 0x%llx", ccn[cc],
                     (unsigned long long)(uint64_t)(0x1000 + 6 + rel[i]));
            expect(want);
        }
    }
    /* lea r, [rip + rel32] (br_table's table address), every register */
    for (int r = 0; r < 16; r++) {
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            size_t f = x_lea_rip(&buf, r);
            uint32_t v = (uint32_t)rel[i];
            memcpy(buf.p + f, &v, 4);
            char d[40] = "", mag[32];
            num(mag, sizeof mag, rel[i] < 0 ? -rel[i] : rel[i]);
            if (rel[i] != 0)
                snprintf(d, sizeof d, " %c %s", rel[i] < 0 ? '-' : '+', mag);
            snprintf(want, sizeof want, "lea %s, [rip%s]", r64[r], d);
            expect(want);
        }
    }
    x_rep_stosq(&buf);
    expect("rep stosq qword ptr [rdi], rax");
    size_t f = x_jmp32(&buf);
    x_patch32(&buf, f, 0);
    expect("jmp 0x1000");
    f = x_call32(&buf);
    x_patch32(&buf, f, 100);
    expect("call 0x1064");
}


/* The vector encoders: every xmm register in each operand (REX.R/REX.B),
   the three opcode maps, with and without the 66 prefix, REX.W forms,
   immediates, memory operands at every displacement. */
static void vectors(void **state)
{
    (void)state;
    char want[160], m[64];
    struct { uint8_t pfx; uint32_t op; const char *n; } ops[] = {
        { 0x66, 0x0ffc, "paddb" }, { 0x66, 0x0fd4, "paddq" }, { 0x66, 0x0ff9, "psubw" },
        { 0x66, 0x0fd5, "pmullw" }, { 0x66, 0x0f3840, "pmulld" }, { 0x66, 0x0fec, "paddsb" },
        { 0x66, 0x0fd9, "psubusw" }, { 0x66, 0x0f3838, "pminsb" }, { 0x66, 0x0fea, "pminsw" },
        { 0x66, 0x0f383f, "pmaxud" }, { 0x66, 0x0fe3, "pavgw" }, { 0x66, 0x0f74, "pcmpeqb" },
        { 0x66, 0x0f3829, "pcmpeqq" }, { 0x66, 0x0f66, "pcmpgtd" }, { 0x66, 0x0fdb, "pand" },
        { 0x66, 0x0fdf, "pandn" }, { 0x66, 0x0feb, "por" }, { 0x66, 0x0fef, "pxor" },
        { 0x66, 0x0ff5, "pmaddwd" }, { 0x66, 0x0f63, "packsswb" }, { 0x66, 0x0f382b, "packusdw" },
        { 0x66, 0x0f3817, "ptest" }, { 0, 0x0f58, "addps" }, { 0x66, 0x0f5e, "divpd" },
    };
    for (int a = 0; a < 16; a++)
        for (int c = 0; c < 16; c++) {
            for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
                x_vec_rr(&buf, ops[k].pfx, 0, ops[k].op, a, c);
                snprintf(want, sizeof want, "%s xmm%d, xmm%d", ops[k].n, a, c);
                expect(want);
            }
            x_vec_rr(&buf, 0x66, 0, V_PSHUFD, a, c);
            gc_u8(&buf, (uint8_t)(a * 16 + c));
            char ib[16];
            num(ib, sizeof ib, a * 16 + c);
            snprintf(want, sizeof want, "pshufd xmm%d, xmm%d, %s", a, c, ib);
            expect(want);
            for (int w = 0; w < 2; w++) {
                x_vec_rr(&buf, 0x66, w, V_PINSRQ, a, c);
                gc_u8(&buf, (uint8_t)(c & (w ? 1 : 3)));
                snprintf(want, sizeof want, "pinsr%c xmm%d, %s, %d", w ? 'q' : 'd', a,
                         w ? r64[c] : r32[c], c & (w ? 1 : 3));
                expect(want);
                x_vec_rr(&buf, 0x66, w, V_PEXTRQ, a, c);
                gc_u8(&buf, (uint8_t)(a & (w ? 1 : 3)));
                snprintf(want, sizeof want, "pextr%c %s, xmm%d, %d", w ? 'q' : 'd',
                         w ? r64[c] : r32[c], a, a & (w ? 1 : 3));
                expect(want);
            }
        }
    struct { uint8_t pfx; uint32_t op; const char *n; } more[] = {
        { 0x66, 0x0f3800, "pshufb" }, { 0x66, 0x0f380b, "pmulhrsw" }, { 0x66, 0x0f381c, "pabsb" },
        { 0x66, 0x0f3820, "pmovsxbw" }, { 0x66, 0x0f3835, "pmovzxdq" }, { 0x66, 0x0f3828, "pmuldq" },
        { 0x66, 0x0ff4, "pmuludq" }, { 0x66, 0x0f6c, "punpcklqdq" }, { 0x66, 0x0fdc, "paddusb" },
        { 0, 0x0f5b, "cvtdq2ps" }, { 0xf3, 0x0fe6, "cvtdq2pd" }, { 0, 0x0f51, "sqrtps" },
        { 0x66, 0x0f51, "sqrtpd" }, { 0, 0x0f5d, "minps" }, { 0x66, 0x0f5f, "maxpd" },
        { 0x66, 0x0ff1, "psllw" }, { 0x66, 0x0fe2, "psrad" }, { 0x66, 0x0fd3, "psrlq" },
    };
    for (int a = 0; a < 16; a++)
        for (int c = 0; c < 16; c++) {
            for (size_t k = 0; k < sizeof more / sizeof more[0]; k++) {
                x_vec_rr(&buf, more[k].pfx, 0, more[k].op, a, c);
                snprintf(want, sizeof want, "%s xmm%d, xmm%d", more[k].n, a, c);
                expect(want);
            }
            int l = (a + c) & 3;
            x_vec_rr(&buf, 0x66, 0, 0x0f3a20, a, c);       /* pinsrb xmm, r32, imm */
            gc_u8(&buf, (uint8_t)l);
            snprintf(want, sizeof want, "pinsrb xmm%d, %s, %d", a, r32[c], l);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0f3a14, a, c);       /* pextrb r32, xmm, imm */
            gc_u8(&buf, (uint8_t)l);
            snprintf(want, sizeof want, "pextrb %s, xmm%d, %d", r32[c], a, l);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0fc4, a, c);         /* pinsrw xmm, r32, imm */
            gc_u8(&buf, (uint8_t)l);
            snprintf(want, sizeof want, "pinsrw xmm%d, %s, %d", a, r32[c], l);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0fc5, c, a);         /* pextrw r32, xmm, imm */
            gc_u8(&buf, (uint8_t)l);
            snprintf(want, sizeof want, "pextrw %s, xmm%d, %d", r32[c], a, l);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0fd7, c, a);
            snprintf(want, sizeof want, "pmovmskb %s, xmm%d", r32[c], a);
            expect(want);
            x_vec_rr(&buf, 0, 0, 0x0f50, c, a);
            snprintf(want, sizeof want, "movmskps %s, xmm%d", r32[c], a);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0f3a21, a, c);
            gc_u8(&buf, (uint8_t)(l << 4));
            char ib[16];
            num(ib, sizeof ib, l << 4);
            snprintf(want, sizeof want, "insertps xmm%d, xmm%d, %s", a, c, ib);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0f3a08, a, c);
            gc_u8(&buf, (uint8_t)l);
            snprintf(want, sizeof want, "roundps xmm%d, xmm%d, %d", a, c, l);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0f72, 2, a);          /* psrld xmm, imm8 (/2) */
            gc_u8(&buf, (uint8_t)(c + 1));
            num(ib, sizeof ib, c + 1);
            snprintf(want, sizeof want, "psrld xmm%d, %s", a, ib);
            expect(want);
            x_vec_rr(&buf, 0x66, 0, 0x0f73, 6, a);          /* psllq xmm, imm8 (/6) */
            gc_u8(&buf, (uint8_t)(c + 1));
            snprintf(want, sizeof want, "psllq xmm%d, %s", a, ib);
            expect(want);
        }
    /* VEX: every register as destination, first and second source, the
       three maps (the two-byte form where it applies), imm8 forms */
    struct { uint8_t pfx; uint32_t op; const char *n; int imm; } vex[] = {
        { 0x66, 0x0ffc, "vpaddb", -1 }, { 0x66, 0x0fd4, "vpaddq", -1 },
        { 0x66, 0x0f3840, "vpmulld", -1 }, { 0x66, 0x0f3837, "vpcmpgtq", -1 },
        { 0x66, 0x0fdf, "vpandn", -1 }, { 0, 0x0f58, "vaddps", -1 }, { 0x66, 0x0f5d, "vminpd", -1 },
        { 0, 0x0f55, "vandnps", -1 }, { 0x66, 0x0f57, "vxorpd", -1 }, { 0, 0x0f5f, "vmaxps", -1 },
    };
    for (int a = 0; a < 16; a++)
        for (int v = 0; v < 16; v++)
            for (int c = 0; c < 16; c += (a + v) % 3 + 1) {
                for (size_t k = 0; k < sizeof vex / sizeof vex[0]; k++) {
                    x_vex_rr(&buf, vex[k].pfx, 0, vex[k].op, a, v, c);
                    snprintf(want, sizeof want, "%s xmm%d, xmm%d, xmm%d", vex[k].n, a, v, c);
                    expect(want);
                }
                x_vex_rr(&buf, 0, 0, 0x0fc2, a, v, c);
                gc_u8(&buf, 3);
                snprintf(want, sizeof want, "vcmpunordps xmm%d, xmm%d, xmm%d", a, v, c);
                expect(want);
            }
    for (int a = 0; a < 16; a++)
        for (int base = 0; base < 16; base++)
            for (size_t d = 0; d < sizeof disps / sizeof disps[0]; d++) {
                xmem x = xm(base, disps[d]);
                mem(m, sizeof m, "xmmword", x);
                x_vex_rm(&buf, 0x66, 0, 0x0ffe, a, (a + base) & 15, x);
                snprintf(want, sizeof want, "vpaddd xmm%d, xmm%d, %s", a, (a + base) & 15, m);
                expect(want);
                x_vec_rm(&buf, 0xf3, 0, V_MOVDQU_LD, a, x);
                snprintf(want, sizeof want, "movdqu xmm%d, %s", a, m);
                expect(want);
                x_vec_rm(&buf, 0xf3, 0, V_MOVDQU_ST, a, x);
                snprintf(want, sizeof want, "movdqu %s, xmm%d", m, a);
                expect(want);
            }
}

static void floats(void **state)
{
    (void)state;
    char want[128], m[64];
    struct { int op; const char *n; } ar[] = {
        { SSE_ADD, "add" }, { SSE_SUB, "sub" }, { SSE_MUL, "mul" }, { SSE_DIV, "div" },
        { SSE_MIN, "min" }, { SSE_MAX, "max" }, { SSE_SQRT, "sqrt" },
    };
    struct { int op; const char *n; } bit[] = {
        { SSE_AND, "and" }, { SSE_ANDN, "andn" }, { SSE_OR, "or" }, { SSE_XOR, "xor" },
    };
    for (int d = 0; d < 2; d++) {
        const char *sfx = d ? "sd" : "ss";
        for (int a = 0; a < 16; a++) {
            for (int c = 0; c < 16; c++) {
                for (size_t k = 0; k < sizeof ar / sizeof ar[0]; k++) {
                    x_sse_rr(&buf, ar[k].op, d, a, c);
                    snprintf(want, sizeof want, "%s%s xmm%d, xmm%d", ar[k].n, sfx, a, c);
                    expect(want);
                }
                for (size_t k = 0; k < sizeof bit / sizeof bit[0]; k++) {
                    x_sse_pd_rr(&buf, bit[k].op, d, a, c);
                    snprintf(want, sizeof want, "%s%s xmm%d, xmm%d", bit[k].n, d ? "pd" : "ps",
                             a, c);
                    expect(want);
                }
                x_ucomis(&buf, d, a, c);
                snprintf(want, sizeof want, "ucomi%s xmm%d, xmm%d", sfx, a, c);
                expect(want);
                x_rounds(&buf, d, a, c, 9);
                snprintf(want, sizeof want, "round%s xmm%d, xmm%d, 9", sfx, a, c);
                expect(want);
                x_cvts2s(&buf, d, a, c);
                snprintf(want, sizeof want, "%s xmm%d, xmm%d", d ? "cvtss2sd" : "cvtsd2ss", a, c);
                expect(want);
                x_movaps(&buf, a, c);
                snprintf(want, sizeof want, "movaps xmm%d, xmm%d", a, c);
                expect(want);
                for (int w = 0; w < 2; w++) {
                    const char *const *R = w ? r64 : r32;
                    x_cvtsi2s(&buf, d, w, a, c);
                    snprintf(want, sizeof want, "cvtsi2%s xmm%d, %s", sfx, a, R[c]);
                    expect(want);
                    x_cvtts2si(&buf, d, w, c, a);
                    snprintf(want, sizeof want, "cvtt%s2si %s, xmm%d", sfx, R[c], a);
                    expect(want);
                    x_movd_xr(&buf, w, a, c);
                    snprintf(want, sizeof want, "%s xmm%d, %s", w ? "movq" : "movd", a, R[c]);
                    expect(want);
                    x_movd_rx(&buf, w, c, a);
                    snprintf(want, sizeof want, "%s %s, xmm%d", w ? "movq" : "movd", R[c], a);
                    expect(want);
                }
            }
            for (int base = 0; base < 16; base++) {
                for (size_t i = 0; i < sizeof disps / sizeof disps[0]; i++) {
                    xmem mm = xm(base, disps[i]);
                    mem(m, sizeof m, d ? "qword" : "dword", mm);
                    x_movs_load(&buf, d, a, mm);
                    snprintf(want, sizeof want, "mov%s xmm%d, %s", sfx, a, m);
                    expect(want);
                    x_movs_store(&buf, d, a, mm);
                    snprintf(want, sizeof want, "mov%s %s, xmm%d", sfx, m, a);
                    expect(want);
                    for (size_t k = 0; k < 4; k++) {     /* add, sub, mul, div */
                        x_sse_rm(&buf, ar[k].op, d, a, mm);
                        snprintf(want, sizeof want, "%s%s xmm%d, %s", ar[k].n, sfx, a, m);
                        expect(want);
                    }
                }
            }
        }
    }
}

/* Forms with a condition code, every width of movsx, call through memory. */
static void conditions_and_widths(void **state)
{
    (void)state;
    static const char *const cc[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g" };
    char want[128], m[64], v[32];
    for (int k = 0; k < 16; k++) {
        for (int d = 0; d < 16; d++) {
            x_setcc(&buf, k, d);
            snprintf(want, sizeof want, "set%s %s", cc[k], r8n[d]);
            expect(want);
            for (int s = 0; s < 16; s += 5) {
                x_cmov(&buf, k, 1, d, s);
                snprintf(want, sizeof want, "cmov%s %s, %s", cc[k], r64[d], r64[s]);
                expect(want);
            }
        }
    }
    for (int d = 0; d < 16; d++) {
        for (int s = 0; s < 16; s++) {
            x_movsx(&buf, 1, 0, d, s);
            snprintf(want, sizeof want, "movsx %s, %s", r32[d], r8n[s]);
            expect(want);
            x_movsx(&buf, 1, 1, d, s);
            snprintf(want, sizeof want, "movsx %s, %s", r64[d], r8n[s]);
            expect(want);
            x_movsx(&buf, 4, 1, d, s);
            snprintf(want, sizeof want, "movsxd %s, %s", r64[d], r32[s]);
            expect(want);
            x_bsr_bsf(&buf, 0, 1, d, s);
            snprintf(want, sizeof want, "bsf %s, %s", r64[d], r64[s]);
            expect(want);
        }
        for (size_t i = 0; i < sizeof disps / sizeof disps[0]; i++) {
            xmem mm = xm(d, disps[i]);
            x_call_m(&buf, mm);
            mem(m, sizeof m, "qword", mm);
            snprintf(want, sizeof want, "call %s", m);
            expect(want);
            x_store_i32(&buf, 4, disps[i], mm);
            mem(m, sizeof m, "dword", mm);
            num(v, sizeof v, (int64_t)(uint32_t)disps[i]);
            snprintf(want, sizeof want, "mov %s, %s", m, v);
            expect(want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alu),
        cmocka_unit_test(moves),
        cmocka_unit_test(loads_stores_by_size),
        cmocka_unit_test(arith),
        cmocka_unit_test(branches),
        cmocka_unit_test(floats),
        cmocka_unit_test(vectors),
        cmocka_unit_test(conditions_and_widths),
    };
    return cmocka_run_group_tests_name("x86_64 encoders", tests, setup, teardown);
}
