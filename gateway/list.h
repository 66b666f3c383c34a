/* list.h - the gateway's intrusive doubly-linked lists: push at the head and unlink,
 * written once for every list whose nodes carry their own next/prev pointers (a
 * watch's taps and exact taps, the glob subscriptions, the open sessions, the feed's
 * live subscriptions).
 *
 * Macros rather than functions because each list links different types through
 * differently named fields. They do not allocate, free or lock: the caller holds
 * whatever the list needs. head and node are evaluated more than once.
 */
#ifndef LJ_LIST_H
#define LJ_LIST_H

#include <stddef.h>

/* Puts node in front of the list at head, through its fields next and prev. */
#define LJ_LIST_PUSH(head, node, next, prev)                                       \
    do {                                                                           \
        (node)->prev = NULL;                                                       \
        (node)->next = (head);                                                     \
        if (head)                                                                  \
            (head)->prev = (node);                                                 \
        (head) = (node);                                                           \
    } while (0)

/* Takes node, which is on the list at head, off it; its next and prev become NULL. */
#define LJ_LIST_UNLINK(head, node, next, prev)                                     \
    do {                                                                           \
        if ((node)->prev)                                                          \
            (node)->prev->next = (node)->next;                                     \
        else                                                                       \
            (head) = (node)->next;                                                 \
        if ((node)->next)                                                          \
            (node)->next->prev = (node)->prev;                                     \
        (node)->next = (node)->prev = NULL;                                        \
    } while (0)

#endif
