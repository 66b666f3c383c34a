/* driver.c - runs a libFuzzer target without libFuzzer, for ordinary builds and CI.
 *
 * Usage: fuzz_<target> CORPUS_DIR [RUNS]
 * Feeds every regular file of CORPUS_DIR to LLVMFuzzerTestOneInput, then RUNS (default
 * 3000) inputs made from a fixed seed: half are corpus files with a few random edits
 * (byte flips, insertions, deletions, repeated and spliced ranges), half random bytes.
 * The same binary therefore gives the same inputs on every run, so a failure under
 * `meson test --setup=asan` or `--setup=valgrind` reproduces. Real coverage-guided
 * fuzzing is a clang build with -Dfuzzing=true (see README.md); this only keeps the
 * targets honest in every build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    uint8_t *data;
    size_t len;
};

static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return n ? (uint32_t)((rng_state >> 33) % n) : 0;
}

static int load(const char *path, struct input *in)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    in->len = n > 0 ? (size_t)n : 0;
    in->data = malloc(in->len + 1);
    if (in->data == NULL || fread(in->data, 1, in->len, f) != in->len) {
        fclose(f);
        free(in->data);
        return -1;
    }
    fclose(f);
    return 0;
}

/* Runs one input from an exactly sized heap copy, so overreads are caught. */
static void run(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        abort();
    if (len)
        memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

/* A corpus file with a few random edits, written into out (capacity cap). */
static size_t mutate(const struct input *c, size_t nc, uint8_t *out, size_t cap)
{
    const struct input *base = &c[rnd((uint32_t)nc)];
    size_t len = base->len < cap ? base->len : cap;
    memcpy(out, base->data, len);
    for (uint32_t k = 1 + rnd(8); k > 0; k--) {
        size_t at = len ? rnd((uint32_t)len) : 0;
        switch (rnd(5)) {
        case 0:  /* flip */
            if (len)
                out[at] ^= (uint8_t)(1u << rnd(8));
            break;
        case 1:  /* insert */
            if (len < cap) {
                memmove(out + at + 1, out + at, len - at);
                out[at] = (uint8_t)rnd(256);
                len++;
            }
            break;
        case 2:  /* delete a range */
            if (len) {
                size_t n = 1 + rnd((uint32_t)(len - at));
                memmove(out + at, out + at + n, len - at - n);
                len -= n;
            }
            break;
        case 3: { /* repeat a range */
            size_t n = len - at < 64 ? len - at : 64;
            if (len + n <= cap) {
                memmove(out + at + n, out + at, len - at);
                len += n;
            }
            break;
        }
        default: { /* splice in part of another file */
            const struct input *o = &c[rnd((uint32_t)nc)];
            size_t from = o->len ? rnd((uint32_t)o->len) : 0;
            size_t n = o->len - from;
            if (n > cap - at)
                n = cap - at;
            memcpy(out + at, o->data + from, n);
            if (at + n > len)
                len = at + n;
            break;
        }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    enum { CAP = 1 << 16 };
    struct input *corpus = NULL;
    size_t nc = 0;
    long runs = argc > 2 ? strtol(argv[2], NULL, 10) : 3000;
    uint8_t *buf = malloc(CAP);

    if (argc < 2 || buf == NULL) {
        fprintf(stderr, "usage: %s CORPUS_DIR [RUNS]\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (dir == NULL) {
        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[1]);
        return 2;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char path[4096];
        struct input in;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        if (load(path, &in) != 0)
            continue;
        corpus = realloc(corpus, (nc + 1) * sizeof *corpus);
        corpus[nc++] = in;
        run(in.data, in.len);
    }
    closedir(dir);
    for (long i = 0; i < runs; i++) {
        size_t len;
        if (nc > 0 && i % 2 == 0) {
            len = mutate(corpus, nc, buf, CAP);
        } else {
            len = rnd(i % 10 == 1 ? 40000 : 300);
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)rnd(256);
        }
        run(buf, len);
    }
    printf("%zu corpus files, %ld generated inputs: ok\n", nc, runs);
    for (size_t i = 0; i < nc; i++)
        free(corpus[i].data);
    free(corpus);
    free(buf);
    return 0;
}
