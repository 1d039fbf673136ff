/* snapedit.c - edits a snapshot the way an attacker would, for the tests:
   sets the u32 at OFFSET of custom section SECTION's payload to VALUE and
   recomputes the checksum, so the edit reaches the checks behind it.
     snapedit IN OUT SECTION OFFSET VALUE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint32_t leb(const uint8_t *b, size_t n, size_t *pos)
{
    uint32_t v = 0;
    for (int s = 0; *pos < n && s < 35; s += 7) {
        uint8_t c = b[(*pos)++];
        v |= (uint32_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            break;
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: snapedit IN OUT SECTION OFFSET VALUE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(n);
    if (!b || fread(b, 1, n, f) != n)
        return 2;
    fclose(f);
    size_t pos = 8, name_len = strlen(argv[3]);
    uint32_t off = (uint32_t)strtoul(argv[4], NULL, 0), val = (uint32_t)strtoul(argv[5], NULL, 0);
    while (pos < n) {
        uint8_t id = b[pos++];
        uint32_t size = leb(b, n, &pos);
        size_t end = pos + size;
        if (id == 0) {
            size_t p = pos;
            uint32_t nl = leb(b, n, &p);
            if (nl == name_len && !memcmp(b + p, argv[3], nl) && p + nl + off + 4 <= end) {
                memcpy(b + p + nl + off, &val, 4);
                uint64_t sum = XXH3_64bits(b, n - 24);
                memcpy(b + n - 8, &sum, 8);
                f = fopen(argv[2], "wb");
                int bad = !f || fwrite(b, 1, n, f) != n || fclose(f);
                free(b);
                return bad ? 2 : 0;
            }
        }
        pos = end;
    }
    fprintf(stderr, "snapedit: no section %s with offset %u\n", argv[3], off);
    free(b);
    return 1;
}
