/* grep.c - a Thompson-NFA regular expression matcher with bounded cost.
 *
 * Parsing is recursive descent into a small tree; code generation follows the classic
 * split/jmp scheme (Thompson 1968, as in Cox's re1); matching runs every live thread in
 * lock step over the input, one state set per byte, so cost is linear in the input.
 * Deliberately missing: captures, back-references, Unicode classes (`.` is one byte).
 *
 * Bounded per call as well as per line: lj_grep_step stops after a budget of steps and
 * keeps the live threads, so the gateway spreads one costly match over service passes
 * (session.c spends a per-session budget; hub.c refills it each pass).
 *
 * Why not PCRE2 (measured 2026-12-01, bench/RESULTS.md "grep"): with JIT it is 50-1000x
 * faster on ordinary patterns (0.02-0.6 us against 1.5-9 us a 130-byte line), but on
 * the hostile nested-`.*` pattern it gives no answer: the match limit ends it with
 * PCRE2_ERROR_MATCHLIMIT after ~0.7 ms on a 130-byte line that this NFA decides in
 * 0.1 ms, and its backtracking cannot be resumed across passes. A switch would need
 * this NFA behind it for the patterns that hit the limit, and would widen the accepted
 * syntax (back-references, look-around) unless patterns are still parsed here first;
 * the speed matters only for busy containers with many grep viewers. Kept: this
 * matcher, always exact and linear, with the budget.
 */
#include "grep.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

enum op { OP_BYTE, OP_ANY, OP_CLASS, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_MATCH };

struct inst {
    uint8_t op;
    uint8_t byte;
    uint16_t cls;      /* index into classes for OP_CLASS */
    uint16_t x, y;     /* targets for SPLIT (x preferred) and JMP (x) */
};

enum node_kind { N_EMPTY, N_BYTE, N_ANY, N_CLASS, N_BOL, N_EOL, N_CAT, N_ALT,
                 N_STAR, N_PLUS, N_QUEST, N_REPEAT };

struct node {
    uint8_t kind;
    uint8_t byte;
    uint16_t cls;
    int16_t min, max;  /* N_REPEAT; max -1 = unbounded */
    struct node *a, *b;
};

#define MAX_NODES (LJ_GREP_PATTERN_MAX * 3)
#define MAX_CLASSES 64

struct lj_grep {
    struct inst prog[LJ_GREP_PROG_MAX];
    int len;
    bool icase;
    uint8_t classes[MAX_CLASSES][32];   /* 256-bit sets */
    int nclasses;
    /* matcher scratch: two thread lists and a generation mark per instruction */
    uint16_t list[2][LJ_GREP_PROG_MAX];
    uint32_t mark[LJ_GREP_PROG_MAX];
    uint32_t gen;
};

struct parser {
    const char *s;
    struct node nodes[MAX_NODES];
    int nnodes;
    struct lj_grep *g;
    const char *err;
};

static struct node *new_node(struct parser *p, int kind, struct node *a, struct node *b)
{
    if (p->nnodes >= MAX_NODES) {
        p->err = "pattern too complex";
        return NULL;
    }
    struct node *n = &p->nodes[p->nnodes++];
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->a = a;
    n->b = b;
    return n;
}

static void set_bit(uint8_t *set, unsigned c) { set[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static bool get_bit(const uint8_t *set, unsigned c) { return set[c >> 3] & (1u << (c & 7)); }

static int new_class(struct parser *p)
{
    if (p->g->nclasses >= MAX_CLASSES) {
        p->err = "too many character classes";
        return -1;
    }
    memset(p->g->classes[p->g->nclasses], 0, 32);
    return p->g->nclasses++;
}

/* Adds the set named by escape letter e (d w s, upper case negated); false if none. */
static bool add_named_class(uint8_t *set, char e)
{
    char lower = (char)tolower((unsigned char)e);
    if (lower != 'd' && lower != 'w' && lower != 's')
        return false;
    for (unsigned c = 0; c < 256; c++) {
        bool in = lower == 'd' ? isdigit((int)c) : lower == 's' ? isspace((int)c)
                                                                 : (isalnum((int)c) || c == '_');
        if (c >= 0x80)
            in = false;
        if (in != (e != lower))
            set_bit(set, c);
    }
    return true;
}

static struct node *parse_class(struct parser *p)
{
    int ci = new_class(p);
    bool neg = false;
    uint8_t *set;

    if (ci < 0)
        return NULL;
    set = p->g->classes[ci];
    if (*p->s == '^') {
        neg = true;
        p->s++;
    }
    for (bool first = true; *p->s && (*p->s != ']' || first); first = false) {
        unsigned lo = (unsigned char)*p->s++, hi;
        if (lo == '\\' && *p->s) {
            if (add_named_class(set, *p->s)) {
                p->s++;
                continue;
            }
            lo = (unsigned char)*p->s++;
        }
        hi = lo;
        if (p->s[0] == '-' && p->s[1] && p->s[1] != ']') {
            hi = (unsigned char)p->s[1];
            p->s += 2;
            if (hi == '\\' && *p->s)
                hi = (unsigned char)*p->s++;
            if (hi < lo) {
                p->err = "bad range in class";
                return NULL;
            }
        }
        for (unsigned c = lo; c <= hi; c++)
            set_bit(set, c);
    }
    if (*p->s != ']') {
        p->err = "missing ]";
        return NULL;
    }
    p->s++;
    if (neg)
        for (int i = 0; i < 32; i++)
            set[i] = (uint8_t)~set[i];
    struct node *n = new_node(p, N_CLASS, NULL, NULL);
    if (n)
        n->cls = (uint16_t)ci;
    return n;
}

static struct node *parse_alt(struct parser *p);

static struct node *parse_escape(struct parser *p)
{
    char e = *p->s++;
    if (!e) {
        p->err = "trailing backslash";
        return NULL;
    }
    if (isdigit((unsigned char)e) && e != '0') {
        p->err = "back-references are not supported";
        return NULL;
    }
    int ci = -1;
    if (strchr("dDwWsS", e)) {
        if ((ci = new_class(p)) < 0)
            return NULL;
        add_named_class(p->g->classes[ci], e);
        struct node *n = new_node(p, N_CLASS, NULL, NULL);
        if (n)
            n->cls = (uint16_t)ci;
        return n;
    }
    struct node *n = new_node(p, N_BYTE, NULL, NULL);
    if (n)
        n->byte = (uint8_t)(e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? 0 : e);
    return n;
}

static struct node *parse_atom(struct parser *p)
{
    char c = *p->s;
    struct node *n;

    if (c == '(') {
        p->s++;
        if (p->s[0] == '?' && p->s[1] == ':')
            p->s += 2;
        n = parse_alt(p);
        if (!n)
            return NULL;
        if (*p->s != ')') {
            p->err = "missing )";
            return NULL;
        }
        p->s++;
        return n;
    }
    p->s++;
    switch (c) {
    case '.': return new_node(p, N_ANY, NULL, NULL);
    case '^': return new_node(p, N_BOL, NULL, NULL);
    case '$': return new_node(p, N_EOL, NULL, NULL);
    case '[': return parse_class(p);
    case '\\': return parse_escape(p);
    case '*': case '+': case '?': case '{':
        p->err = "repetition without operand";
        return NULL;
    default:
        if ((n = new_node(p, N_BYTE, NULL, NULL)))
            n->byte = (uint8_t)c;
        return n;
    }
}

/* Parses "{n}", "{n,}" or "{n,m}" after the '{'; returns false on bad syntax. */
static bool parse_bounds(struct parser *p, int *min, int *max)
{
    char *end;
    long a = strtol(p->s, &end, 10), b;
    if (end == p->s || a < 0 || a > 32)
        return false;
    p->s = end;
    b = a;
    if (*p->s == ',') {
        p->s++;
        b = -1;
        if (isdigit((unsigned char)*p->s)) {
            b = strtol(p->s, &end, 10);
            p->s = end;
            if (b < a || b > 32)
                return false;
        }
    }
    if (*p->s != '}')
        return false;
    p->s++;
    *min = (int)a;
    *max = (int)b;
    return true;
}

static struct node *parse_repeat(struct parser *p)
{
    struct node *n = parse_atom(p);
    while (n && *p->s && strchr("*+?{", *p->s)) {
        char c = *p->s++;
        if (c == '{') {
            int min, max;
            if (!parse_bounds(p, &min, &max)) {
                p->err = "bad {n,m} repetition (n, m <= 32)";
                return NULL;
            }
            if ((n = new_node(p, N_REPEAT, n, NULL))) {
                n->min = (int16_t)min;
                n->max = (int16_t)max;
            }
        } else {
            n = new_node(p, c == '*' ? N_STAR : c == '+' ? N_PLUS : N_QUEST, n, NULL);
        }
    }
    return n;
}

static struct node *parse_cat(struct parser *p)
{
    struct node *n = new_node(p, N_EMPTY, NULL, NULL);
    while (n && *p->s && *p->s != '|' && *p->s != ')') {
        struct node *r = parse_repeat(p);
        n = r ? new_node(p, N_CAT, n, r) : NULL;
    }
    return n;
}

static struct node *parse_alt(struct parser *p)
{
    struct node *n = parse_cat(p);
    while (n && *p->s == '|') {
        p->s++;
        struct node *r = parse_cat(p);
        n = r ? new_node(p, N_ALT, n, r) : NULL;
    }
    return n;
}

/* ---- code generation ---- */

static int emit(struct lj_grep *g, int op)
{
    if (g->len >= LJ_GREP_PROG_MAX)
        return -1;
    memset(&g->prog[g->len], 0, sizeof(g->prog[0]));
    g->prog[g->len].op = (uint8_t)op;
    return g->len++;
}

static bool gen(struct lj_grep *g, const struct node *n);

static bool gen_repeat(struct lj_grep *g, const struct node *n)
{
    struct node star = { .kind = N_STAR, .a = n->a }, quest = { .kind = N_QUEST, .a = n->a };
    for (int i = 0; i < n->min; i++)
        if (!gen(g, n->a))
            return false;
    if (n->max < 0)
        return gen(g, &star);
    for (int i = n->min; i < n->max; i++)
        if (!gen(g, &quest))
            return false;
    return true;
}

static bool gen_loop(struct lj_grep *g, const struct node *n)
{
    int split, start = g->len, jmp;
    if (n->kind == N_PLUS) {
        if (!gen(g, n->a) || (split = emit(g, OP_SPLIT)) < 0)
            return false;
        g->prog[split].x = (uint16_t)start;
        g->prog[split].y = (uint16_t)g->len;
        return true;
    }
    if ((split = emit(g, OP_SPLIT)) < 0)
        return false;
    g->prog[split].x = (uint16_t)g->len;
    if (!gen(g, n->a))
        return false;
    if (n->kind == N_STAR) {
        if ((jmp = emit(g, OP_JMP)) < 0)
            return false;
        g->prog[jmp].x = (uint16_t)split;
    }
    g->prog[split].y = (uint16_t)g->len;
    return true;
}

static bool gen(struct lj_grep *g, const struct node *n)
{
    int pc, split, jmp;
    switch (n->kind) {
    case N_EMPTY: return true;
    case N_CAT: return gen(g, n->a) && gen(g, n->b);
    case N_STAR: case N_PLUS: case N_QUEST: return gen_loop(g, n);
    case N_REPEAT: return gen_repeat(g, n);
    case N_ALT:
        if ((split = emit(g, OP_SPLIT)) < 0)
            return false;
        g->prog[split].x = (uint16_t)g->len;
        if (!gen(g, n->a) || (jmp = emit(g, OP_JMP)) < 0)
            return false;
        g->prog[split].y = (uint16_t)g->len;
        if (!gen(g, n->b))
            return false;
        g->prog[jmp].x = (uint16_t)g->len;
        return true;
    default:
        pc = emit(g, n->kind == N_BYTE ? OP_BYTE : n->kind == N_ANY ? OP_ANY
                   : n->kind == N_CLASS ? OP_CLASS : n->kind == N_BOL ? OP_BOL : OP_EOL);
        if (pc < 0)
            return false;
        g->prog[pc].byte = n->byte;
        g->prog[pc].cls = n->cls;
        return true;
    }
}

/* Folds literals and classes to lower case for (?i). */
static void fold_case(struct lj_grep *g)
{
    for (int i = 0; i < g->len; i++)
        if (g->prog[i].op == OP_BYTE)
            g->prog[i].byte = (uint8_t)tolower(g->prog[i].byte);
    for (int c = 0; c < g->nclasses; c++)
        for (unsigned b = 'A'; b <= 'Z'; b++)
            if (get_bit(g->classes[c], b))
                set_bit(g->classes[c], b + 32);
}

lj_status lj_grep_compile(const char *pattern, struct lj_grep **out, char *err, size_t errlen)
{
    struct parser *p;
    struct lj_grep *g;
    struct node *root;
    lj_status st = LJ_OK;

    if (strlen(pattern) > LJ_GREP_PATTERN_MAX)
        return lj_fail(err, errlen, LJ_LIMIT, "grep pattern longer than %d bytes",
                       LJ_GREP_PATTERN_MAX);
    p = calloc(1, sizeof(*p));
    g = calloc(1, sizeof(*g));
    if (!p || !g) {
        free(p);
        free(g);
        return LJ_NOMEM;
    }
    p->g = g;
    p->s = pattern;
    if (strncmp(p->s, "(?i)", 4) == 0) {
        g->icase = true;
        p->s += 4;
    }
    root = parse_alt(p);
    if (root && *p->s)
        p->err = "unbalanced )";
    if (!root || p->err)
        st = lj_fail(err, errlen, LJ_INVAL, "bad grep pattern: %s", p->err ? p->err : "?");
    else if (!gen(g, root) || emit(g, OP_MATCH) < 0)
        st = lj_fail(err, errlen, LJ_LIMIT, "grep pattern too complex");
    free(p);
    if (st != LJ_OK) {
        free(g);
        return st;
    }
    if (g->icase)
        fold_case(g);
    *out = g;
    return LJ_OK;
}

void lj_grep_destroy(struct lj_grep *g)
{
    free(g);
}

/* Adds pc and everything reachable through SPLIT/JMP/BOL/EOL at position i. */
static void add_thread(struct lj_grep *g, uint16_t *list, int *n, int pc, size_t i, size_t len)
{
    uint16_t stack[2 * LJ_GREP_PROG_MAX + 2];
    int sp = 0;
    stack[sp++] = (uint16_t)pc;
    while (sp > 0) {
        pc = stack[--sp];
        if (g->mark[pc] == g->gen)
            continue;
        g->mark[pc] = g->gen;
        const struct inst *in = &g->prog[pc];
        if (in->op == OP_JMP)
            stack[sp++] = in->x;
        else if (in->op == OP_SPLIT) {
            stack[sp++] = in->y;
            stack[sp++] = in->x;
        } else if (in->op == OP_BOL) {
            if (i == 0)
                stack[sp++] = (uint16_t)(pc + 1);
        } else if (in->op == OP_EOL) {
            if (i == len)
                stack[sp++] = (uint16_t)(pc + 1);
        } else
            list[(*n)++] = (uint16_t)pc;
    }
}

static bool step_accepts(const struct lj_grep *g, const struct inst *in, unsigned c)
{
    switch (in->op) {
    case OP_BYTE: return in->byte == c;
    case OP_ANY: return c != '\n';
    case OP_CLASS: return get_bit(g->classes[in->cls], c);
    default: return false;
    }
}

/* A match in progress: the position it stopped at and the threads alive there (the
 * state at the top of the byte loop below, so resuming is exact). */
struct lj_grep_run {
    size_t pos;
    int n;
    uint16_t pcs[LJ_GREP_PROG_MAX];
};

void lj_grep_run_free(struct lj_grep_run *run)
{
    free(run);
}

enum lj_grep_result lj_grep_step(struct lj_grep *g, struct lj_grep_run **run, const char *s,
                                 size_t n, uint64_t *budget)
{
    uint16_t *cur = g->list[0], *next = g->list[1], *tmp;
    int ncur = 0, nnext;
    size_t i = 0;
    enum lj_grep_result res;

    if (n > LJ_GREP_SCAN_MAX)
        n = LJ_GREP_SCAN_MAX;
    if (run && *run) {
        i = (*run)->pos;
        ncur = (*run)->n;
        memcpy(cur, (*run)->pcs, (size_t)ncur * sizeof(*cur));
    }
    for (;; i++) {
        /* One step is one live thread over one byte (plus the new thread). Out of
         * budget: the state goes into *run, to be resumed on a later call. A byte is
         * taken whole, so a call overshoots by less than one byte's steps and always
         * makes progress. */
        uint64_t cost = (uint64_t)ncur + 1;
        if (budget && *budget == 0) {
            if (!*run && !(*run = malloc(sizeof(**run)))) {
                /* no memory to suspend in: finish this line whatever it costs */
                budget = NULL;
            } else {
                (*run)->pos = i;
                (*run)->n = ncur;
                memcpy((*run)->pcs, cur, (size_t)ncur * sizeof(*cur));
                *budget = 0;
                return LJ_GREP_MORE;
            }
        }
        if (budget)
            *budget -= cost < *budget ? cost : *budget;
        if (++g->gen == 0) {      /* wrapped: reset the marks once every 4G steps */
            memset(g->mark, 0, sizeof(g->mark));
            g->gen = 1;
        }
        /* unanchored search: a new thread starts at every position */
        nnext = ncur;
        ncur = 0;
        for (int t = 0; t < nnext; t++) {
            int pc = cur[t];
            add_thread(g, next, &ncur, pc, i, n);
        }
        add_thread(g, next, &ncur, 0, i, n);
        tmp = cur; cur = next; next = tmp;
        res = LJ_GREP_NO;
        for (int t = 0; t < ncur; t++)
            if (g->prog[cur[t]].op == OP_MATCH)
                res = LJ_GREP_YES;
        if (res == LJ_GREP_YES || i == n)
            break;
        unsigned c = (unsigned char)s[i];
        if (g->icase)
            c = (unsigned)tolower((int)c);
        nnext = 0;
        for (int t = 0; t < ncur; t++)
            if (step_accepts(g, &g->prog[cur[t]], c))
                next[nnext++] = (uint16_t)(cur[t] + 1);
        tmp = cur; cur = next; next = tmp;
        ncur = nnext;
    }
    /* cur may be list[1] now: the scratch is per call, nothing to restore */
    if (run && *run) {
        free(*run);
        *run = NULL;
    }
    return res;
}

bool lj_grep_match(struct lj_grep *g, const char *s, size_t n)
{
    return lj_grep_step(g, NULL, s, n, NULL) == LJ_GREP_YES;
}
