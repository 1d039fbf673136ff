/* lisp.c - a small Lisp: a reader, cons cells in an arena, symbols,
 * environments as association lists, closures, if/define/lambda/let and a
 * few primitives; it runs fib, tak, list building and reversal, a
 * higher-order map and fold, and prints the results. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum { T_NIL, T_INT, T_SYM, T_CONS, T_PRIM, T_CLOS };
typedef struct obj {
    int t;
    union {
        int64_t i;
        const char *sym;
        struct { struct obj *car, *cdr; } c;
        struct obj *(*prim)(struct obj *);
        struct { struct obj *params, *body, *env; } f;
    } u;
} obj;

#define CELLS (1 << 21)
static obj *heap;
static size_t used;
static obj nil_ = { T_NIL, { 0 } }, *nil = &nil_;

static obj *alloc(int t)
{
    if (used == CELLS) {
        fprintf(stderr, "out of cells\n");
        exit(2);
    }
    obj *o = &heap[used++];
    o->t = t;
    return o;
}

static obj *cons(obj *a, obj *d)
{
    obj *o = alloc(T_CONS);
    o->u.c.car = a, o->u.c.cdr = d;
    return o;
}
static obj *num(int64_t i)
{
    obj *o = alloc(T_INT);
    o->u.i = i;
    return o;
}
#define car(o) ((o)->u.c.car)
#define cdr(o) ((o)->u.c.cdr)

/* symbols are interned: one object per name */
static obj *syms[256];
static int nsyms;
static obj *intern(const char *s, size_t n)
{
    for (int i = 0; i < nsyms; i++)
        if (strlen(syms[i]->u.sym) == n && !memcmp(syms[i]->u.sym, s, n))
            return syms[i];
    char *name = malloc(n + 1);
    memcpy(name, s, n);
    name[n] = 0;
    obj *o = malloc(sizeof *o);
    o->t = T_SYM;
    o->u.sym = name;
    return syms[nsyms++] = o;
}

static const char *src;
static obj *read_(void);
static obj *read_list(void)
{
    while (*src == ' ' || *src == '\n')
        src++;
    if (*src == ')') {
        src++;
        return nil;
    }
    obj *a = read_();
    return cons(a, read_list());
}
static obj *read_(void)
{
    while (*src == ' ' || *src == '\n')
        src++;
    if (*src == '(') {
        src++;
        return read_list();
    }
    if ((*src >= '0' && *src <= '9') || (*src == '-' && src[1] >= '0' && src[1] <= '9')) {
        int64_t sign = *src == '-' ? -1 : 1, v = 0;
        if (sign < 0)
            src++;
        while (*src >= '0' && *src <= '9')
            v = v * 10 + (*src++ - '0');
        return num(sign * v);
    }
    const char *s = src;
    while (*src && *src != ' ' && *src != '\n' && *src != '(' && *src != ')')
        src++;
    return intern(s, (size_t)(src - s));
}

static obj *s_if, *s_define, *s_lambda, *s_let, *s_quote, *s_t;
static obj *global;

static obj *lookup(obj *env, obj *sym)
{
    for (; env != nil; env = cdr(env))
        if (car(car(env)) == sym)
            return cdr(car(env));
    for (obj *g = global; g != nil; g = cdr(g))
        if (car(car(g)) == sym)
            return cdr(car(g));
    fprintf(stderr, "unbound %s\n", sym->u.sym);
    exit(2);
}

static obj *eval(obj *x, obj *env);
static obj *evlis(obj *l, obj *env)
{
    if (l == nil)
        return nil;
    obj *a = eval(car(l), env);
    return cons(a, evlis(cdr(l), env));
}

static obj *eval(obj *x, obj *env)
{
    for (;;) {
        if (x->t == T_INT || x->t == T_NIL)
            return x;
        if (x->t == T_SYM)
            return lookup(env, x);
        obj *op = car(x);
        if (op == s_quote)
            return car(cdr(x));
        if (op == s_if) {
            obj *c = eval(car(cdr(x)), env);
            x = c != nil ? car(cdr(cdr(x))) : car(cdr(cdr(cdr(x))));
            continue;                       /* a tail call */
        }
        if (op == s_define) {
            obj *v = eval(car(cdr(cdr(x))), env);
            global = cons(cons(car(cdr(x)), v), global);
            return v;
        }
        if (op == s_lambda) {
            obj *f = alloc(T_CLOS);
            f->u.f.params = car(cdr(x)), f->u.f.body = car(cdr(cdr(x))), f->u.f.env = env;
            return f;
        }
        if (op == s_let) {                  /* (let ((a e) ...) body) */
            obj *e = env;
            for (obj *b = car(cdr(x)); b != nil; b = cdr(b))
                e = cons(cons(car(car(b)), eval(car(cdr(car(b))), env)), e);
            env = e;
            x = car(cdr(cdr(x)));
            continue;
        }
        obj *f = eval(op, env), *args = evlis(cdr(x), env);
        if (f->t == T_PRIM)
            return f->u.prim(args);
        obj *e = f->u.f.env;
        for (obj *p = f->u.f.params; p != nil; p = cdr(p), args = cdr(args))
            e = cons(cons(car(p), car(args)), e);
        env = e;
        x = f->u.f.body;
    }
}

static obj *p_add(obj *a) { return num(car(a)->u.i + car(cdr(a))->u.i); }
static obj *p_sub(obj *a) { return num(car(a)->u.i - car(cdr(a))->u.i); }
static obj *p_mul(obj *a) { return num(car(a)->u.i * car(cdr(a))->u.i); }
static obj *p_lt(obj *a) { return car(a)->u.i < car(cdr(a))->u.i ? s_t : nil; }
static obj *p_eq(obj *a) { return car(a)->u.i == car(cdr(a))->u.i ? s_t : nil; }
static obj *p_cons(obj *a) { return cons(car(a), car(cdr(a))); }
static obj *p_car(obj *a) { return car(car(a)); }
static obj *p_cdr(obj *a) { return cdr(car(a)); }
static obj *p_null(obj *a) { return car(a) == nil ? s_t : nil; }

static void prim(const char *name, obj *(*fn)(obj *))
{
    obj *o = malloc(sizeof *o);
    o->t = T_PRIM;
    o->u.prim = fn;
    global = cons(cons(intern(name, strlen(name)), o), global);
}

static const char *program[] = {
    "(define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))",
    ("(define tak (lambda (x y z) (if (< y x) (tak (tak (- x 1) y z) (tak (- y 1) z x)"
     " (tak (- z 1) x y)) z)))"),
    "(define iota (lambda (n acc) (if (= n 0) acc (iota (- n 1) (cons n acc)))))",
    "(define rev (lambda (l acc) (if (null? l) acc (rev (cdr l) (cons (car l) acc)))))",
    /* tail-recursive (into an accumulator, then reversed): a deep C
       recursion would overflow clang's 64 KiB wasm32 stack */
    "(define map (lambda (f l acc) (if (null? l) (rev acc (quote ())) (map f (cdr l) (cons (f (car l)) acc)))))",
    "(define fold (lambda (f a l) (if (null? l) a (fold f (f a (car l)) (cdr l)))))",
    "(define sq (lambda (x) (* x x)))",
};

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    heap = malloc(CELLS * sizeof *heap);
    s_if = intern("if", 2), s_define = intern("define", 6), s_lambda = intern("lambda", 6);
    s_let = intern("let", 3), s_quote = intern("quote", 5), s_t = intern("t", 1);
    int64_t check = 0;
    for (int r = 0; r < 3 * scale; r++) {
        used = 0;
        global = nil;
        prim("+", p_add), prim("-", p_sub), prim("*", p_mul), prim("<", p_lt);
        prim("=", p_eq), prim("cons", p_cons), prim("car", p_car), prim("cdr", p_cdr);
        prim("null?", p_null);
        for (size_t i = 0; i < sizeof program / sizeof program[0]; i++) {
            src = program[i];
            eval(read_(), nil);
        }
        static const char *const exprs[] = {
            "(fib 20)", "(tak 18 12 6)",
            "(fold (lambda (a x) (+ a x)) 0 (map sq (rev (iota 2000 (quote ())) (quote ())) (quote ())))",
            "(let ((a 7) (b 9)) (fold (lambda (s x) (+ (* s 3) x)) a (iota 40 (quote ()))))",
        };
        for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
            src = exprs[i];
            obj *v = eval(read_(), nil);
            if (r == 0)
                printf("%s => %lld\n", exprs[i], (long long)v->u.i);
            check += v->u.i;
        }
    }
    printf("lisp: %d rounds, check %lld, %zu cells in the last\n", 3 * scale, (long long)check, used);
    return 0;
}
