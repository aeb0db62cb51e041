#ifndef KUBENFT_CONNTRACK_H
#define KUBENFT_CONNTRACK_H
/*
 * Connection tracking entries over ctnetlink (NFNL_SUBSYS_CTNETLINK) on a kubenft netlink socket,
 * so they are read and removed in the socket's network namespace: a dump of the entries of one
 * address family and layer-4 protocol, and the deletion of one entry.
 *
 * Every function returns 0 or a positive errno value; nothing here exits the process or prints.
 */
#include <stdint.h>
#include "kubenft_nftnl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One tracked connection: its original and reply tuples. Addresses are in network byte order
 * (the first 4 bytes for IPv4), ports in host byte order. */
typedef struct {
    uint8_t family;     /* AF_INET or AF_INET6 */
    uint8_t l4proto;    /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_SCTP, ... */
    uint16_t zone;      /* conntrack zone, 0 by default */
    uint32_t id;        /* the kernel's id of the entry (CTA_ID), 0 when not reported */
    uint8_t orig_src[16];
    uint8_t orig_dst[16];
    uint8_t reply_src[16];
    uint8_t reply_dst[16];
    uint16_t orig_sport;
    uint16_t orig_dport;
    uint16_t reply_sport;
    uint16_t reply_dport;
} kubenft_ct_flow;

/* Every entry of the family (AF_INET or AF_INET6) whose layer-4 protocol is l4proto. *out is
 * malloc'd (free it with free()), *count its length; NULL / 0 when there are none. EINTR: the
 * kernel marked the dump interrupted, read again. */
int kubenft_ct_dump(kubenft_nl_socket *sock, uint8_t family, uint8_t l4proto, kubenft_ct_flow **out, uint32_t *count);

/* Deletes the entry with flow's original tuple, zone and (when non-zero) id. ENOENT: it was gone. */
int kubenft_ct_delete(kubenft_nl_socket *sock, const kubenft_ct_flow *flow);

#ifdef __cplusplus
}
#endif
#endif
