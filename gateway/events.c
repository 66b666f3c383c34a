/* events.c - `event` and `retention` frames queued on subscriptions.
 *
 *   {"type":"event","id":"<sub id>","container":"host/name","event":"exited",
 *    "ts":"RFC3339 ns","exit_code":137,"oom_killed":true}
 * (the fields after the id come from lj_lifecycle_json; docs/protocol.md has them all)
 *   {"type":"retention","id":"<sub id>","container":"host/name","since":"RFC3339",
 *    "first_ts":"RFC3339 ns","first_seq":S,"first_line_no":N}
 */
#include "events.h"

#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "session.h"
#include "timeutil.h"

bool lj_events_covers(const struct lj_sub *sub, const char *key)
{
    if (!key)
        return false;
    if (sub->glob ? !lj_glob_match(sub->pattern, key) : strcmp(sub->pattern, key) != 0)
        return false;
    return lj_grant_allows(sub->session->grant, key);
}

/* Queues the frame of ev (body: the fields after the id) on sub. */
static void queue(struct lj_sub *sub, const char *type, const struct lj_buf *body)
{
    struct lj_buf b;
    lj_buf_init(&b);
    lj_buf_appendf(&b, "{\"type\":\"%s\",\"id\":", type);
    lj_buf_append(&b, sub->id_json, strlen(sub->id_json));
    lj_buf_append(&b, body->data, body->len);
    size_t len = b.len;
    if (lj_buf_cstr(&b) && b.data)
        lj_session_push_msg(sub->session, b.data, len);    /* takes b.data */
    else
        lj_buf_finish(&b);
}

void lj_events_broadcast(struct lj_session *sessions, const struct lj_lifecycle_event *ev)
{
    struct lj_buf body;
    lj_buf_init(&body);
    lj_lifecycle_json(ev, &body);
    for (struct lj_session *s = sessions; s; s = s->next) {
        if (s->closing)
            continue;
        for (size_t i = 0; i < s->nsubs; i++)
            if (lj_events_covers(s->subs[i], ev->key) || lj_events_covers(s->subs[i], ev->new_key))
                queue(s->subs[i], "event", &body);
    }
    lj_buf_finish(&body);
}

void lj_events_retention(struct lj_sub *sub, const char *key, const struct lj_line *first)
{
    char since[LJ_TIME_RFC3339_MAX], ts[LJ_TIME_RFC3339_MAX];
    struct lj_buf body;
    if (sub->session->closing)
        return;
    lj_time_format(sub->since_ns, since);
    lj_time_format(first->ts_ns, ts);
    lj_buf_init(&body);
    lj_buf_append(&body, ",\"container\":", 13);
    lj_json_string(&body, key, strlen(key));
    lj_buf_appendf(&body, ",\"since\":\"%s\",\"first_ts\":\"%s\",\"first_seq\":%llu,\"first_line_no\":%llu}",
                   since, ts, (unsigned long long)first->seq, (unsigned long long)first->line_no);
    queue(sub, "retention", &body);
    lj_buf_finish(&body);
}

void lj_events_to_sub(struct lj_sub *sub, const struct lj_lifecycle_event *ev)
{
    struct lj_buf body;
    if (sub->session->closing)
        return;
    lj_buf_init(&body);
    lj_lifecycle_json(ev, &body);
    queue(sub, "event", &body);
    lj_buf_finish(&body);
}
