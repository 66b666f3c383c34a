/* control.c - control message parsing on top of cJSON. Each field has its own small
 * reader so a new field is one function and one line in parse_subscribe. */
#include "control.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "record.h"
#include "timeutil.h"

const char *lj_control_error_name(enum lj_control_error e)
{
    static const char *const names[] = {
#define LJ_CONTROL_ERROR_NAME(name, code) code,
        LJ_CONTROL_ERROR_MAP(LJ_CONTROL_ERROR_NAME)
#undef LJ_CONTROL_ERROR_NAME
    };
    return (unsigned)e < LJ_CONTROL_E_COUNT ? names[e] : "bad_request";
}

enum lj_control_error lj_control_error_of(lj_status s)
{
    switch (s) {
    case LJ_LIMIT:
    case LJ_AGAIN:
    case LJ_NOMEM:
    case LJ_NATS: return LJ_CONTROL_E_LIMIT;
    case LJ_NOT_FOUND: return LJ_CONTROL_E_NOT_FOUND;
    default: return LJ_CONTROL_E_BAD_REQUEST;
    }
}

/* Copies string field name into dst (size n). Missing: "" and LJ_OK unless required. */
static lj_status read_string(const cJSON *o, const char *name, bool required, char *dst,
                             size_t n, char *msg, size_t msglen)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    dst[0] = '\0';
    if (!f || cJSON_IsNull(f))
        return required ? lj_fail(msg, msglen, LJ_PROTO, "missing \"%s\"", name) : LJ_OK;
    if (!cJSON_IsString(f))
        return lj_fail(msg, msglen, LJ_PROTO, "\"%s\" must be a string", name);
    size_t len = strlen(f->valuestring);
    if (len >= n)
        return lj_fail(msg, msglen, LJ_LIMIT, "\"%s\" longer than %zu bytes", name, n - 1);
    if (required && len == 0)
        return lj_fail(msg, msglen, LJ_PROTO, "\"%s\" is empty", name);
    memcpy(dst, f->valuestring, len + 1);
    return LJ_OK;
}

/* Reads a non-negative integer field (<= max) into *dst; missing leaves it 0. */
static lj_status read_uint(const cJSON *o, const char *name, double max, uint64_t *dst,
                           char *msg, size_t msglen)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    *dst = 0;
    if (!f || cJSON_IsNull(f))
        return LJ_OK;
    if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble != floor(f->valuedouble)
        || f->valuedouble > 9007199254740992.0)
        return lj_fail(msg, msglen, LJ_PROTO, "\"%s\" must be a non-negative integer", name);
    if (f->valuedouble > max)
        return lj_fail(msg, msglen, LJ_LIMIT, "\"%s\" above %.0f", name, max);
    *dst = (uint64_t)f->valuedouble;
    return LJ_OK;
}

static int stream_from_name(const char *s)
{
    return strcmp(s, "stdout") == 0 ? LJ_STREAM_STDOUT : strcmp(s, "stderr") == 0 ? LJ_STREAM_STDERR : -1;
}

/* Reads an array of names into a bit mask using lookup (name -> bit index or -1). */
static lj_status read_names(const cJSON *o, const char *name, int (*lookup)(const char *),
                            unsigned *mask, char *msg, size_t msglen)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name), *e;
    *mask = 0;
    if (!f || cJSON_IsNull(f))
        return LJ_OK;
    if (!cJSON_IsArray(f))
        return lj_fail(msg, msglen, LJ_PROTO, "\"%s\" must be an array of strings", name);
    cJSON_ArrayForEach(e, f) {
        int bit = cJSON_IsString(e) ? lookup(e->valuestring) : -1;
        if (bit < 0 || bit >= 16)
            return lj_fail(msg, msglen, LJ_PROTO, "unknown value in \"%s\"", name);
        *mask |= 1u << bit;
    }
    return LJ_OK;
}

/* "since": an RFC 3339 time after 1970, as Unix ns; missing leaves it 0. */
static lj_status read_since(const cJSON *o, int64_t *dst, char *msg, size_t msglen)
{
    char t[64];
    lj_status st = read_string(o, "since", false, t, sizeof(t), msg, msglen);
    if (st != LJ_OK || !t[0])
        return st;
    if (lj_time_parse(t, strlen(t), dst) != LJ_OK || *dst <= 0)
        return lj_fail(msg, msglen, LJ_PROTO, "\"since\" must be an RFC 3339 time such as "
                       "2026-12-01T10:00:00Z");
    return LJ_OK;
}

static lj_status parse_subscribe(const cJSON *o, uint32_t max_replay, struct lj_control *c,
                                 char *msg, size_t msglen)
{
    uint64_t replay = 0;
    lj_status st = read_string(o, "container", true, c->container, sizeof(c->container), msg, msglen);
    if (st == LJ_OK)
        st = read_uint(o, "replay", max_replay, &replay, msg, msglen);
    if (st == LJ_OK)
        st = read_uint(o, "after_seq", 9007199254740992.0, &c->after_seq, msg, msglen);
    if (st == LJ_OK)
        st = read_uint(o, "after_line_no", 9007199254740992.0, &c->after_line_no, msg, msglen);
    if (st == LJ_OK)
        st = read_names(o, "levels", lj_level_from_name, &c->levels, msg, msglen);
    if (st == LJ_OK)
        st = read_names(o, "streams", stream_from_name, &c->streams, msg, msglen);
    if (st == LJ_OK)
        st = read_string(o, "grep", false, c->grep, sizeof(c->grep), msg, msglen);
    if (st == LJ_OK)
        st = read_since(o, &c->since_ns, msg, msglen);
    c->replay = (uint32_t)replay;
    return st;
}

static lj_status parse_object(const cJSON *o, uint32_t max_replay, struct lj_control *c,
                              char *msg, size_t msglen)
{
    char op[16];
    lj_status st = read_string(o, "op", true, op, sizeof(op), msg, msglen);
    if (st != LJ_OK)
        return st == LJ_LIMIT ? lj_fail(msg, msglen, LJ_PROTO, "unknown op") : st;
    if (strcmp(op, "list") == 0) {
        c->op = LJ_CONTROL_LIST;
        return read_string(o, "id", false, c->id, sizeof(c->id), msg, msglen);
    }
    if (strcmp(op, "subscribe") != 0 && strcmp(op, "unsubscribe") != 0)
        return lj_fail(msg, msglen, LJ_PROTO, "unknown op");
    c->op = op[0] == 's' ? LJ_CONTROL_SUBSCRIBE : LJ_CONTROL_UNSUBSCRIBE;
    st = read_string(o, "id", true, c->id, sizeof(c->id), msg, msglen);
    if (st == LJ_OK && c->op == LJ_CONTROL_SUBSCRIBE)
        st = parse_subscribe(o, max_replay, c, msg, msglen);
    return st;
}

/* Best effort: the id of a request that failed validation, for the error frame. */
static void salvage_id(const cJSON *o, struct lj_control *c)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (c->id[0] == '\0' && cJSON_IsString(f) && strlen(f->valuestring) <= LJ_CONTROL_ID_MAX)
        strcpy(c->id, f->valuestring);
}

lj_status lj_control_parse(const char *json, size_t len, uint32_t max_replay,
                           struct lj_control *out, char *msg, size_t msglen)
{
    cJSON *o;
    lj_status st;

    memset(out, 0, sizeof(*out));
    if (len > LJ_CONTROL_FRAME_MAX)
        return lj_fail(msg, msglen, LJ_LIMIT, "control frame larger than %d bytes",
                       LJ_CONTROL_FRAME_MAX);
    o = cJSON_ParseWithLength(json, len);
    if (!o)
        return lj_fail(msg, msglen, LJ_PROTO, "malformed JSON");
    if (!cJSON_IsObject(o))
        st = lj_fail(msg, msglen, LJ_PROTO, "a control message is a JSON object");
    else
        st = parse_object(o, max_replay, out, msg, msglen);
    if (st != LJ_OK)
        salvage_id(o, out);
    cJSON_Delete(o);
    return st;
}
