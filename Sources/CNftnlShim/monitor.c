#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include "internal.h"

int kubenft_nl_subscribe(kubenft_nl_socket *sock) {
    if (sock == NULL) return EINVAL;
    int group = NFNLGRP_NFTABLES;
    if (mnl_socket_setsockopt(sock->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) return errno;
    return 0;
}

/* True when the event names (table, family): every nf_tables object message carries its table's
 * name as attribute 1. An event without one (other than NEWGEN) is counted as touching it. */
static bool event_touches(const struct nlmsghdr *nlh, uint16_t family, const char *table) {
    const struct nfgenmsg *gen = mnl_nlmsg_get_payload(nlh);
    if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*gen))) return true;
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(attr) != 1) continue;
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) != 0) return true;
        return gen->nfgen_family == family && strcmp(mnl_attr_get_str(attr), table) == 0;
    }
    return true;
}

static uint32_t event_genid(const struct nlmsghdr *nlh) {
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_get_payload_len(attr) == sizeof(uint32_t)) {
            return ntohl(mnl_attr_get_u32(attr));
        }
    }
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kubenft_nl_monitor_scan(kubenft_nl_socket *sock, uint16_t family, const char *table, bool wait, uint32_t until,
                            int timeout_ms, kubenft_nl_watch *watch) {
    if (sock == NULL || table == NULL || watch == NULL) return EINVAL;
    if (sock->receive == NULL) {
        sock->receive_size = 256 * 1024;
        sock->receive = malloc(sock->receive_size);
        if (sock->receive == NULL) return ENOMEM;
    }
    int fd = mnl_socket_get_fd(sock->nl);
    long long deadline = now_ms() + timeout_ms;
    bool reached = !wait;
    for (;;) {
        ssize_t received = recv(fd, sock->receive, sock->receive_size, MSG_DONTWAIT);
        if (received < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) return ENOBUFS; /* events were lost: nothing is known */
            if (errno != EAGAIN && errno != EWOULDBLOCK) return errno;
            if (reached) return 0;
            long long left = deadline - now_ms();
            if (left <= 0) return ETIMEDOUT;
            struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
            (void)poll(&pfd, 1, (int)left);
            continue;
        }
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)sock->receive;
        int remaining = (int)received;
        for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
            if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) continue;
            if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWGEN) {
                if (event_touches(nlh, family, table)) watch->pending = true;
                continue;
            }
            uint32_t genid = event_genid(nlh);
            watch->seen = true;
            watch->last_genid = genid;
            if (watch->pending) {
                watch->touched = true;
                watch->last_touch = genid;
                watch->pending = false;
            }
            if (wait && (int32_t)(genid - until) >= 0) reached = true;
        }
    }
}
