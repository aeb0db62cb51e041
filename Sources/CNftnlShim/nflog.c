#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include "internal.h"

/* nfnetlink_log: binding an nflog group and reading the packets the kernel's `log group N`
 * sends there, on the same kind of socket (and in the same network namespace) as the rest. */

static struct nlmsghdr *nflog_config(char *buffer, kubenft_nl_socket *sock, uint16_t group) {
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = sock->next_seq++;
    struct nfgenmsg *message = mnl_nlmsg_put_extra_header(nlh, sizeof(*message));
    message->nfgen_family = AF_UNSPEC;
    message->version = NFNETLINK_V0;
    message->res_id = htons(group);
    return nlh;
}

static int ack_cb(const struct nlmsghdr *nlh, void *data) {
    (void)nlh;
    (void)data;
    return MNL_CB_OK;
}

int kubenft_nflog_bind(kubenft_nl_socket *sock, uint16_t group, uint16_t copy_bytes) {
    if (sock == NULL) return EINVAL;
    char buffer[512];
    struct nlmsghdr *nlh = nflog_config(buffer, sock, group);
    struct nfulnl_msg_config_cmd command = { .command = NFULNL_CFG_CMD_BIND };
    mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(command), &command);
    int rc = kubenft_nl_request(sock, nlh, ack_cb, NULL);
    if (rc != 0) return rc;
    nlh = nflog_config(buffer, sock, group);
    struct nfulnl_msg_config_mode mode = { .copy_range = htonl(copy_bytes), .copy_mode = NFULNL_COPY_PACKET };
    mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
    return kubenft_nl_request(sock, nlh, ack_cb, NULL);
}

struct entry_target {
    kubenft_nflog_entry *entries;
    uint32_t max;
    uint32_t count;
};

static void take_packet(const struct nlmsghdr *nlh, struct entry_target *target) {
    if (target->count >= target->max) return;
    if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) return;
    if (nlh->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg))) return;
    const struct nfgenmsg *message = mnl_nlmsg_get_payload(nlh);
    kubenft_nflog_entry *entry = &target->entries[target->count];
    memset(entry, 0, sizeof(*entry));
    entry->group = ntohs(message->res_id);
    entry->family = message->nfgen_family;
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        uint16_t length = mnl_attr_get_payload_len(attr);
        switch (mnl_attr_get_type(attr)) {
        case NFULA_PREFIX: {
            size_t copy = length < sizeof(entry->prefix) - 1 ? length : sizeof(entry->prefix) - 1;
            memcpy(entry->prefix, mnl_attr_get_payload(attr), copy);
            entry->prefix[copy] = '\0';
            break;
        }
        case NFULA_PAYLOAD: {
            size_t copy = length < sizeof(entry->payload) ? length : sizeof(entry->payload);
            memcpy(entry->payload, mnl_attr_get_payload(attr), copy);
            entry->payload_length = (uint32_t)copy;
            break;
        }
        default:
            break;
        }
    }
    target->count++;
}

int kubenft_nflog_read(kubenft_nl_socket *sock, int timeout_ms, kubenft_nflog_entry *entries, uint32_t max, uint32_t *count) {
    if (sock == NULL || entries == NULL || count == NULL) return EINVAL;
    *count = 0;
    if (sock->receive == NULL) {
        sock->receive_size = 256 * 1024;
        sock->receive = malloc(sock->receive_size);
        if (sock->receive == NULL) return ENOMEM;
    }
    struct pollfd pfd = { .fd = mnl_socket_get_fd(sock->nl), .events = POLLIN };
    int ready;
    do { ready = poll(&pfd, 1, timeout_ms); } while (ready < 0 && errno == EINTR);
    if (ready < 0) return errno;
    if (ready == 0) return 0;
    ssize_t received = recv(pfd.fd, sock->receive, sock->receive_size, MSG_DONTWAIT);
    if (received < 0) return errno == EAGAIN ? 0 : errno;
    struct entry_target target = { .entries = entries, .max = max, .count = 0 };
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)sock->receive;
    int remaining = (int)received;
    while (mnl_nlmsg_ok(nlh, remaining)) {
        take_packet(nlh, &target);
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
    *count = target.count;
    return 0;
}
