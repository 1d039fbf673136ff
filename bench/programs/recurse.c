/* recurse.c - recursion-heavy code: naive fibonacci, small ackermann, n-queens
 * backtracking, and building/walking/freeing binary trees with malloc; one
 * long-lived tree is added per round (up to 16 kept), so the heap grows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FIB_N      28
#define ACK_N      6
#define QUEENS     8
#define TREE_MIN   4
#define TREE_MAX   14
#define KEEP_DEPTH 17
#define KEEP_MAX   16   /* at most this many long-lived trees at once */

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

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static uint64_t ack_calls;

static uint32_t ack(uint32_t m, uint32_t n)
{
    ack_calls++;
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static uint32_t queens(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2)
{
    if (row == n)
        return 1;
    uint32_t count = 0;
    uint32_t free_ = ~(cols | d1 | d2) & ((1u << n) - 1u);
    while (free_) {
        uint32_t bit = free_ & (0u - free_);
        free_ ^= bit;
        count += queens(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
    }
    return count;
}

struct node {
    struct node *left, *right;
    uint32_t val;
};

static uint64_t nodes_made;

static struct node *build(int depth, uint32_t val)
{
    struct node *n = malloc(sizeof *n);
    if (!n) {
        printf("out of memory\n");
        exit(1);
    }
    nodes_made++;
    n->val = val;
    if (depth > 0) {
        n->left = build(depth - 1, val * 2u + 1u);
        n->right = build(depth - 1, val * 2u + 2u);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

/* returns node count; folds values into *h in in-order sequence */
static uint32_t walk(const struct node *n, uint32_t *h)
{
    if (!n)
        return 0;
    uint32_t c = walk(n->left, h);
    *h = (*h ^ n->val) * 0x01000193u;
    return c + 1 + walk(n->right, h);
}

static uint32_t height(const struct node *n)
{
    if (!n)
        return 0;
    uint32_t a = height(n->left), b = height(n->right);
    return 1 + (a > b ? a : b);
}

static void destroy(struct node *n)
{
    if (!n)
        return;
    destroy(n->left);
    destroy(n->right);
    free(n);
}

/* a mirrored copy, so both shapes get walked */
static struct node *mirror(const struct node *n)
{
    if (!n)
        return NULL;
    struct node *m = malloc(sizeof *m);
    if (!m) {
        printf("out of memory\n");
        exit(1);
    }
    nodes_made++;
    m->val = n->val ^ 0x55u;
    m->left = mirror(n->right);
    m->right = mirror(n->left);
    return m;
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("recurse: scale %d\n", scale);

    /* long-lived trees: one more per round, the last KEEP_MAX kept */
    struct node *keep[KEEP_MAX] = {0};
    uint64_t total = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t f = fib(FIB_N + (uint32_t)(r % 3));
        ack_calls = 0;
        uint32_t a = ack(2, 400u + (uint32_t)r) + ack(3, ACK_N + (uint32_t)(r % 2));
        uint32_t q = queens(QUEENS + r % 2, 0, 0, 0, 0);

        uint32_t th = 0x811c9dc5u, tcount = 0;
        for (int d = TREE_MIN; d <= TREE_MAX; d += 2) {
            int iters = 3 << (TREE_MAX - d + TREE_MIN - 3);
            for (int i = 0; i < iters; i++) {
                struct node *t = build(d, (uint32_t)(i + r));
                struct node *m = mirror(t);
                tcount += walk(t, &th) + walk(m, &th);
                destroy(t);
                destroy(m);
            }
        }
        destroy(keep[r % KEEP_MAX]);
        keep[r % KEEP_MAX] = build(KEEP_DEPTH, (uint32_t)r);
        uint32_t kh = 0;
        uint32_t kc = walk(keep[r % KEEP_MAX], &kh);

        total = (total << 7 | total >> 57) ^ ((uint64_t)f + a + q + th + tcount + kh + kc);
        if ((r + 1) % step == 0)
            printf("round %d: fib %u ack %u (%llu calls) queens %u trees %u/%08x kept %u/%08x\n",
                   r + 1, f, a, (unsigned long long)ack_calls, q, tcount, th, kc, kh);
    }
    uint32_t allh = 0, allc = 0, maxh = 0;
    for (int k = 0; k < KEEP_MAX; k++) {
        allc += walk(keep[k], &allh);
        uint32_t h = height(keep[k]);
        if (h > maxh)
            maxh = h;
        destroy(keep[k]);
    }
    printf("kept trees: %u nodes, height %u, hash %08x\n", allc, maxh, allh);
    printf("nodes allocated %llu\n", (unsigned long long)nodes_made);
    printf("checksum %016llx\n", (unsigned long long)total);
    return 0;
}
