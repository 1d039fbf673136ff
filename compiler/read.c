/* read.c - the byte reader: LEB128, fixed-width numbers, names. */
#include <string.h>

#include "compiler.h"

static bool eof(gr_reader *r)
{
    return gx_fail(r->err, GATE_ERR_MALFORMED, gr_off(r), GATE_NO_FUNC,
                   "unexpected end");
}

bool gr_byte_slow(gr_reader *r, uint8_t *out)
{
    if (r->pos >= r->end)
        return eof(r);
    *out = r->base[r->pos++];
    return true;
}

bool gr_bytes(gr_reader *r, size_t n, const uint8_t **out)
{
    if (n > r->end - r->pos)
        return eof(r);
    *out = r->base + r->pos;
    r->pos += n;
    return true;
}

/*
 * Unsigned LEB128 of at most `bits` bits: at most ceil(bits/7) bytes, and
 * the unused high bits of the last byte must be zero.
 */
static bool leb_u(gr_reader *r, unsigned bits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint64_t start = gr_off(r);
    for (;;) {
        uint8_t b;
        if (!gr_byte(r, &b))
            return false;
        if (shift + 7 >= bits) {
            /* last permitted byte */
            unsigned used = bits - shift;
            if (b & 0x80)
                return gx_fail(r->err, GATE_ERR_MALFORMED, start, GATE_NO_FUNC,
                               "integer representation too long");
            if (used < 7 && (b >> used) != 0)
                return gx_fail(r->err, GATE_ERR_MALFORMED, start, GATE_NO_FUNC,
                               "integer too large");
            v |= (uint64_t)b << shift;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *out = v;
    return true;
}

/*
 * Signed LEB128 of at most `bits` bits: in the last permitted byte, the
 * bits above the value's sign bit must all equal the sign bit.
 */
static bool leb_s(gr_reader *r, unsigned bits, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint64_t start = gr_off(r);
    uint8_t b;
    for (;;) {
        if (!gr_byte(r, &b))
            return false;
        if (shift + 7 >= bits) {
            unsigned used = bits - shift;   /* 1..7 value bits in this byte */
            if (b & 0x80)
                return gx_fail(r->err, GATE_ERR_MALFORMED, start, GATE_NO_FUNC,
                               "integer representation too long");
            /* bits [used-1, 6] must be all 0 or all 1 */
            uint8_t mask = (uint8_t)(0x7f & ~((1u << (used - 1)) - 1));
            uint8_t top = b & mask;
            if (top != 0 && top != mask)
                return gx_fail(r->err, GATE_ERR_MALFORMED, start, GATE_NO_FUNC,
                               "integer too large");
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return true;
}

bool gr_u32_slow(gr_reader *r, uint32_t *out)
{
    uint64_t v = 0;
    if (!leb_u(r, 32, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool gr_s32_slow(gr_reader *r, int32_t *out)
{
    int64_t v = 0;
    if (!leb_s(r, 32, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

bool gr_s33_slow(gr_reader *r, int64_t *out)
{
    return leb_s(r, 33, out);
}

bool gr_s64_slow(gr_reader *r, int64_t *out)
{
    return leb_s(r, 64, out);
}

bool gr_fixed32(gr_reader *r, uint32_t *out)
{
    const uint8_t *p;
    if (!gr_bytes(r, 4, &p))
        return false;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
    return true;
}

bool gr_fixed64(gr_reader *r, uint64_t *out)
{
    uint32_t lo, hi;
    if (!gr_fixed32(r, &lo) || !gr_fixed32(r, &hi))
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
bool gx_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

bool gr_name(gr_reader *r, const uint8_t **out, uint32_t *len)
{
    uint64_t at = gr_off(r);
    if (!gr_u32(r, len))
        return false;
    if (*len > GD_MAX_NAME)
        return gx_fail(r->err, GATE_ERR_LIMIT, at, GATE_NO_FUNC,
                       "name of %u bytes exceeds the limit of %u", *len,
                       GD_MAX_NAME);
    if (!gr_bytes(r, *len, out))
        return false;
    if (!gx_utf8_valid(*out, *len))
        return gx_fail(r->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                       "malformed UTF-8 encoding");
    return true;
}

/* Opcode lookup: key = byte, 256 + 0xfc sub-opcode, 512 + 0xfd sub-opcode. */
#define KEY(pfx, code) ((pfx) == 0 ? (code) : (pfx) == 0xfc ? 256 + (code) : 512 + (code))
const uint16_t gr_op_by_key[768] = {
#define OP(id, pfx, code, name, imm, sig, x, cls, kind, w) [KEY(pfx, code)] = GOP_##id + 1,
#include "opcodes.def"
#undef OP
};

bool gr_opcode_slow(gr_reader *r, uint16_t *op)
{
    uint64_t at = gr_off(r);
    uint8_t b;
    uint32_t key;
    if (!gr_byte(r, &b))
        return false;
    key = b;
    if (b == 0xfc || b == 0xfd) {
        uint32_t sub;
        if (!gr_u32(r, &sub))
            return false;
        if (sub > 255)
            return gx_fail(r->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "illegal opcode 0x%02x %u", b, sub);
        key = (b == 0xfc ? 256 : 512) + sub;
    }
    if (!gr_op_by_key[key]) {
        if (key < 256)
            return gx_fail(r->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "illegal opcode 0x%02x", b);
        return gx_fail(r->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                       "illegal opcode 0x%02x %u", b, key & 255);
    }
    *op = gr_op_by_key[key] - 1;
    return true;
}
