/* interp.c - a stack-machine bytecode interpreter with a dense switch over
 * ~30 opcodes, running bytecode assembled in C (prime counting, iterative and
 * recursive fibonacci, collatz, a hash loop); results checked against C. */
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

enum op {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_LOAD, OP_STORE,
    OP_INC, OP_ADD, OP_SUB, OP_MUL, OP_DIVU, OP_MODU, OP_AND, OP_OR,
    OP_XOR, OP_SHL, OP_SHRU, OP_NEG, OP_NOT, OP_LTU, OP_LEU, OP_EQ,
    OP_NE, OP_JMP, OP_JZ, OP_JNZ, OP_CALL, OP_RET, OP_ROTL, OP_ADDI,
    OP_COUNT
};

/* ---- tiny assembler ---- */
#define CODE_MAX 4096
#define LABEL_MAX 64

static int32_t code[CODE_MAX];
static int ncode;
static int label_pos[LABEL_MAX];
static int fix_at[CODE_MAX], fix_label[CODE_MAX], nfix;
static int nlabel;

static void emit(int32_t w)
{
    if (ncode >= CODE_MAX) {
        printf("code overflow\n");
        exit(1);
    }
    code[ncode++] = w;
}

static void op0(enum op o) { emit((int32_t)o); }
static void op1(enum op o, int32_t a) { emit((int32_t)o); emit(a); }

static int new_label(void)
{
    label_pos[nlabel] = -1;
    return nlabel++;
}

static void bind(int l) { label_pos[l] = ncode; }

static void jump(enum op o, int l)
{
    emit((int32_t)o);
    fix_at[nfix] = ncode;
    fix_label[nfix++] = l;
    emit(0);
}

static void link_code(void)
{
    for (int i = 0; i < nfix; i++)
        code[fix_at[i]] = label_pos[fix_label[i]];
}

/* ---- the interpreter ---- */
#define STACK_MAX 1024
#define RSTACK_MAX 256
#define NVARS 16

static uint64_t executed;

static uint32_t run(int pc, uint32_t arg)
{
    uint32_t stack[STACK_MAX];
    int32_t rstack[RSTACK_MAX];
    uint32_t vars[NVARS] = {0};
    int sp = 0, rsp = 0;
    uint64_t n = 0;
    stack[sp++] = arg;

    for (;;) {
        int32_t ins = code[pc++];
        n++;
        uint32_t a, b;
        switch (ins) {
        case OP_HALT:
            executed += n;
            return sp > 0 ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case OP_POP: sp--; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case OP_OVER: stack[sp] = stack[sp - 2]; sp++; break;
        case OP_LOAD: stack[sp++] = vars[code[pc++]]; break;
        case OP_STORE: vars[code[pc++]] = stack[--sp]; break;
        case OP_INC: vars[code[pc++]]++; break;
        case OP_ADD: b = stack[--sp]; stack[sp - 1] += b; break;
        case OP_SUB: b = stack[--sp]; stack[sp - 1] -= b; break;
        case OP_MUL: b = stack[--sp]; stack[sp - 1] *= b; break;
        case OP_DIVU: b = stack[--sp]; stack[sp - 1] = b ? stack[sp - 1] / b : 0; break;
        case OP_MODU: b = stack[--sp]; stack[sp - 1] = b ? stack[sp - 1] % b : 0; break;
        case OP_AND: b = stack[--sp]; stack[sp - 1] &= b; break;
        case OP_OR: b = stack[--sp]; stack[sp - 1] |= b; break;
        case OP_XOR: b = stack[--sp]; stack[sp - 1] ^= b; break;
        case OP_SHL: b = stack[--sp]; stack[sp - 1] <<= (b & 31); break;
        case OP_SHRU: b = stack[--sp]; stack[sp - 1] >>= (b & 31); break;
        case OP_NEG: stack[sp - 1] = 0u - stack[sp - 1]; break;
        case OP_NOT: stack[sp - 1] = ~stack[sp - 1]; break;
        case OP_LTU: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] < b; break;
        case OP_LEU: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] <= b; break;
        case OP_EQ: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] == b; break;
        case OP_NE: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] != b; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: pc = stack[--sp] == 0 ? code[pc] : pc + 1; break;
        case OP_JNZ: pc = stack[--sp] != 0 ? code[pc] : pc + 1; break;
        case OP_CALL:
            if (rsp >= RSTACK_MAX) {
                printf("return stack overflow\n");
                exit(1);
            }
            rstack[rsp++] = pc + 1;
            pc = code[pc];
            break;
        case OP_RET: pc = rstack[--rsp]; break;
        case OP_ROTL:
            b = stack[--sp] & 31;
            a = stack[sp - 1];
            stack[sp - 1] = (a << b) | (a >> ((32 - b) & 31));
            break;
        case OP_ADDI: stack[sp - 1] += (uint32_t)code[pc++]; break;
        default:
            printf("bad opcode %d at %d\n", (int)ins, pc - 1);
            exit(1);
        }
        if (sp >= STACK_MAX - 2) {
            printf("stack overflow\n");
            exit(1);
        }
    }
}

/* ---- bytecode programs (argument on the stack at entry) ---- */
enum { V_N, V_I, V_D, V_CNT, V_A, V_B, V_T, V_K, V_S, V_X };

/* number of primes <= n by trial division */
static int asm_primes(void)
{
    int entry = ncode;
    int l_outer = new_label(), l_inner = new_label(), l_prime = new_label();
    int l_next = new_label(), l_done = new_label();
    op1(OP_STORE, V_N);
    op1(OP_PUSH, 0); op1(OP_STORE, V_CNT);
    op1(OP_PUSH, 2); op1(OP_STORE, V_I);
    bind(l_outer);
    op1(OP_LOAD, V_I); op1(OP_LOAD, V_N); op0(OP_LEU); jump(OP_JZ, l_done);
    op1(OP_PUSH, 2); op1(OP_STORE, V_D);
    bind(l_inner);
    op1(OP_LOAD, V_D); op0(OP_DUP); op0(OP_MUL); op1(OP_LOAD, V_I); op0(OP_LEU);
    jump(OP_JZ, l_prime);
    op1(OP_LOAD, V_I); op1(OP_LOAD, V_D); op0(OP_MODU); jump(OP_JZ, l_next);
    op1(OP_INC, V_D);
    jump(OP_JMP, l_inner);
    bind(l_prime);
    op1(OP_INC, V_CNT);
    bind(l_next);
    op1(OP_INC, V_I);
    jump(OP_JMP, l_outer);
    bind(l_done);
    op1(OP_LOAD, V_CNT);
    op0(OP_HALT);
    return entry;
}

/* sum over k < n of fib(k) mod 2^32, iterative, inner loop of length 64 */
static int asm_fibsum(void)
{
    int entry = ncode;
    int l_outer = new_label(), l_inner = new_label(), l_idone = new_label(), l_done = new_label();
    op1(OP_STORE, V_N);
    op1(OP_PUSH, 0); op1(OP_STORE, V_S);
    op1(OP_PUSH, 0); op1(OP_STORE, V_K);
    bind(l_outer);
    op1(OP_LOAD, V_K); op1(OP_LOAD, V_N); op0(OP_LTU); jump(OP_JZ, l_done);
    op1(OP_LOAD, V_K); op1(OP_STORE, V_A);           /* a = k */
    op1(OP_PUSH, 1); op1(OP_STORE, V_B);             /* b = 1 */
    op1(OP_PUSH, 64); op1(OP_STORE, V_I);
    bind(l_inner);
    op1(OP_LOAD, V_I); jump(OP_JZ, l_idone);
    op1(OP_LOAD, V_A); op1(OP_LOAD, V_B); op0(OP_DUP); op1(OP_STORE, V_A);
    op0(OP_ADD); op1(OP_STORE, V_B);                 /* (a, b) = (b, a + b) */
    op1(OP_LOAD, V_I); op1(OP_PUSH, 1); op0(OP_SUB); op1(OP_STORE, V_I);
    jump(OP_JMP, l_inner);
    bind(l_idone);
    op1(OP_LOAD, V_S); op1(OP_LOAD, V_A); op0(OP_XOR); op1(OP_PUSH, 5); op0(OP_ROTL);
    op1(OP_STORE, V_S);
    op1(OP_INC, V_K);
    jump(OP_JMP, l_outer);
    bind(l_done);
    op1(OP_LOAD, V_S);
    op0(OP_HALT);
    return entry;
}

/* recursive fib via CALL/RET on the data stack */
static int asm_fibrec(void)
{
    int l_fib = new_label(), l_base = new_label();
    int entry = ncode;
    jump(OP_CALL, l_fib);
    op0(OP_HALT);
    bind(l_fib);                       /* ( n -- fib(n) ) */
    op0(OP_DUP); op1(OP_PUSH, 2); op0(OP_LTU); jump(OP_JNZ, l_base);
    op0(OP_DUP); op1(OP_ADDI, -1); jump(OP_CALL, l_fib);
    op0(OP_SWAP); op1(OP_ADDI, -2); jump(OP_CALL, l_fib);
    op0(OP_ADD);
    bind(l_base);
    op0(OP_RET);
    return entry;
}

/* total collatz steps for 1..n, plus the max value reached, folded */
static int asm_collatz(void)
{
    int entry = ncode;
    int l_outer = new_label(), l_inner = new_label(), l_even = new_label();
    int l_cont = new_label(), l_idone = new_label(), l_done = new_label(), l_nomax = new_label();
    op1(OP_STORE, V_N);
    op1(OP_PUSH, 0); op1(OP_STORE, V_S);
    op1(OP_PUSH, 0); op1(OP_STORE, V_T);             /* max */
    op1(OP_PUSH, 1); op1(OP_STORE, V_I);
    bind(l_outer);
    op1(OP_LOAD, V_I); op1(OP_LOAD, V_N); op0(OP_LEU); jump(OP_JZ, l_done);
    op1(OP_LOAD, V_I); op1(OP_STORE, V_X);
    bind(l_inner);
    op1(OP_LOAD, V_X); op1(OP_PUSH, 1); op0(OP_EQ); jump(OP_JNZ, l_idone);
    op1(OP_INC, V_S);
    op1(OP_LOAD, V_X); op1(OP_PUSH, 1); op0(OP_AND); jump(OP_JZ, l_even);
    op1(OP_LOAD, V_X); op1(OP_PUSH, 3); op0(OP_MUL); op1(OP_ADDI, 1); op1(OP_STORE, V_X);
    op1(OP_LOAD, V_T); op1(OP_LOAD, V_X); op0(OP_LTU); jump(OP_JZ, l_nomax);
    op1(OP_LOAD, V_X); op1(OP_STORE, V_T);
    bind(l_nomax);
    jump(OP_JMP, l_cont);
    bind(l_even);
    op1(OP_LOAD, V_X); op1(OP_PUSH, 1); op0(OP_SHRU); op1(OP_STORE, V_X);
    bind(l_cont);
    jump(OP_JMP, l_inner);
    bind(l_idone);
    op1(OP_INC, V_I);
    jump(OP_JMP, l_outer);
    bind(l_done);
    op1(OP_LOAD, V_S); op1(OP_LOAD, V_T); op1(OP_PUSH, 7); op0(OP_ROTL); op0(OP_XOR);
    op0(OP_HALT);
    return entry;
}

/* hash loop, n times: v = rotl(x * 0x1e3779b1 ^ k, 13) + k / 3 - k % 7;
 * x = -(~(v ^ (v >> 11))) */
static int asm_hashloop(void)
{
    int entry = ncode;
    int l_loop = new_label(), l_done = new_label();
    op1(OP_STORE, V_N);
    op1(OP_PUSH, 0x1234567); op1(OP_STORE, V_X);
    op1(OP_PUSH, 0); op1(OP_STORE, V_K);
    bind(l_loop);
    op1(OP_LOAD, V_K); op1(OP_LOAD, V_N); op0(OP_NE); jump(OP_JZ, l_done);
    op1(OP_LOAD, V_X); op1(OP_PUSH, (int32_t)0x1e3779b1); op0(OP_MUL);
    op1(OP_LOAD, V_K); op0(OP_XOR); op1(OP_PUSH, 13); op0(OP_ROTL);
    op1(OP_LOAD, V_K); op1(OP_PUSH, 3); op0(OP_DIVU); op0(OP_ADD);
    op1(OP_LOAD, V_K); op1(OP_PUSH, 7); op0(OP_MODU); op0(OP_SUB);
    op0(OP_DUP); op1(OP_PUSH, 11); op0(OP_SHRU); op0(OP_XOR); op0(OP_NOT);
    op0(OP_NEG); op1(OP_LOAD, V_K); op0(OP_OVER); op0(OP_POP); op0(OP_POP);
    op1(OP_STORE, V_X);
    op1(OP_INC, V_K);
    jump(OP_JMP, l_loop);
    bind(l_done);
    op1(OP_LOAD, V_X);
    op0(OP_HALT);
    return entry;
}

/* ---- C references ---- */
static uint32_t rotl32(uint32_t x, uint32_t r) { r &= 31; return (x << r) | (x >> ((32 - r) & 31)); }

static uint32_t ref_primes(uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 2; i <= n; i++) {
        uint32_t d = 2;
        while (d * d <= i && i % d != 0)
            d++;
        if (d * d > i)
            c++;
    }
    return c;
}

static uint32_t ref_fibsum(uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t a = k, b = 1;
        for (int i = 0; i < 64; i++) {
            uint32_t t = a + b;
            a = b;
            b = t;
        }
        s = rotl32(s ^ a, 5);
    }
    return s;
}

static uint32_t ref_fibrec(uint32_t n) { return n < 2 ? n : ref_fibrec(n - 1) + ref_fibrec(n - 2); }

static uint32_t ref_collatz(uint32_t n)
{
    uint32_t s = 0, t = 0;
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t x = i;
        while (x != 1) {
            s++;
            if (x & 1) {
                x = 3 * x + 1;
                if (t < x)
                    t = x;
            } else {
                x >>= 1;
            }
        }
    }
    return s ^ rotl32(t, 7);
}

static uint32_t ref_hashloop(uint32_t n)
{
    uint32_t x = 0x1234567;
    for (uint32_t k = 0; k != n; k++) {
        uint32_t v = rotl32((x * 0x1e3779b1u) ^ k, 13) + k / 3 - k % 7;
        v = ~(v ^ (v >> 11));
        x = 0u - v;
    }
    return x;
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("interp: scale %d\n", scale);

    int p_primes = asm_primes();
    int p_fibsum = asm_fibsum();
    int p_fibrec = asm_fibrec();
    int p_collatz = asm_collatz();
    int p_hash = asm_hashloop();
    link_code();
    printf("bytecode: %d words, %d opcodes\n", ncode, (int)OP_COUNT);

    uint32_t check = 0;
    int bad = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t np = 20000u + (uint32_t)(r % 4) * 1000u;
        uint32_t nf = 5000u + (uint32_t)r;
        uint32_t nr = 22u + (uint32_t)(r % 3);
        uint32_t nc = 9000u + (uint32_t)(r % 5) * 100u;
        uint32_t nh = 300000u + (uint32_t)r;

        uint32_t v1 = run(p_primes, np);
        uint32_t v2 = run(p_fibsum, nf);
        uint32_t v3 = run(p_fibrec, nr);
        uint32_t v4 = run(p_collatz, nc);
        uint32_t v5 = run(p_hash, nh);
        if (v1 != ref_primes(np) || v2 != ref_fibsum(nf) || v3 != ref_fibrec(nr) ||
            v4 != ref_collatz(nc) || v5 != ref_hashloop(nh))
            bad++;
        check = rotl32(check, 9) ^ v1 ^ v2 ^ v3 ^ v4 ^ v5;
        if ((r + 1) % step == 0)
            printf("round %d: primes(%u)=%u fibsum %08x fib(%u)=%u collatz %08x hash %08x\n",
                   r + 1, np, v1, v2, nr, v3, v4, v5);
    }
    printf("instructions executed: %llu\n", (unsigned long long)executed);
    printf("checksum %08x, %s\n", check, bad ? "MISMATCH vs C reference" : "all match C reference");
    return bad ? 1 : 0;
}
