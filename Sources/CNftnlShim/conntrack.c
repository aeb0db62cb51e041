#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "internal.h"
#include "kubenft_conntrack.h"

struct ct_dump {
    uint8_t l4proto;
    kubenft_ct_flow *flows;
    uint32_t count;
    uint32_t capacity;
    int error;
};

static struct nlmsghdr *ct_header(char *buffer, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq) {
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq;
    struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

/* Reads CTA_TUPLE_IP and CTA_TUPLE_PROTO of one tuple. */
static void parse_tuple(const struct nlattr *tuple, uint8_t *src, uint8_t *dst, uint16_t *sport, uint16_t *dport,
                        uint8_t *proto) {
    const struct nlattr *attr;
    mnl_attr_for_each_nested(attr, tuple) {
        const struct nlattr *inner;
        switch (mnl_attr_get_type(attr)) {
        case CTA_TUPLE_IP:
            mnl_attr_for_each_nested(inner, attr) {
                uint16_t length = mnl_attr_get_payload_len(inner);
                switch (mnl_attr_get_type(inner)) {
                case CTA_IP_V4_SRC: if (length == 4) memcpy(src, mnl_attr_get_payload(inner), 4); break;
                case CTA_IP_V4_DST: if (length == 4) memcpy(dst, mnl_attr_get_payload(inner), 4); break;
                case CTA_IP_V6_SRC: if (length == 16) memcpy(src, mnl_attr_get_payload(inner), 16); break;
                case CTA_IP_V6_DST: if (length == 16) memcpy(dst, mnl_attr_get_payload(inner), 16); break;
                default: break;
                }
            }
            break;
        case CTA_TUPLE_PROTO:
            mnl_attr_for_each_nested(inner, attr) {
                uint16_t length = mnl_attr_get_payload_len(inner);
                switch (mnl_attr_get_type(inner)) {
                case CTA_PROTO_NUM: if (length >= 1 && proto != NULL) *proto = mnl_attr_get_u8(inner); break;
                case CTA_PROTO_SRC_PORT: if (length == 2) *sport = ntohs(mnl_attr_get_u16(inner)); break;
                case CTA_PROTO_DST_PORT: if (length == 2) *dport = ntohs(mnl_attr_get_u16(inner)); break;
                default: break;
                }
            }
            break;
        default:
            break;
        }
    }
}

static int ct_dump_cb(const struct nlmsghdr *nlh, void *data) {
    struct ct_dump *dump = data;
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) return MNL_CB_OK;
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    kubenft_ct_flow flow;
    memset(&flow, 0, sizeof(flow));
    flow.family = nfg->nfgen_family;
    bool have_orig = false, have_reply = false;
    const struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        switch (mnl_attr_get_type(attr)) {
        case CTA_TUPLE_ORIG:
            parse_tuple(attr, flow.orig_src, flow.orig_dst, &flow.orig_sport, &flow.orig_dport, &flow.l4proto);
            have_orig = true;
            break;
        case CTA_TUPLE_REPLY:
            parse_tuple(attr, flow.reply_src, flow.reply_dst, &flow.reply_sport, &flow.reply_dport, NULL);
            have_reply = true;
            break;
        case CTA_ZONE:
            if (mnl_attr_get_payload_len(attr) == 2) flow.zone = ntohs(mnl_attr_get_u16(attr));
            break;
        case CTA_ID:
            if (mnl_attr_get_payload_len(attr) == 4) flow.id = ntohl(mnl_attr_get_u32(attr));
            break;
        default:
            break;
        }
    }
    if (!have_orig || !have_reply || flow.l4proto != dump->l4proto) return MNL_CB_OK;
    if (dump->count == dump->capacity) {
        uint32_t capacity = dump->capacity == 0 ? 256 : dump->capacity * 2;
        kubenft_ct_flow *grown = realloc(dump->flows, capacity * sizeof(*grown));
        if (grown == NULL) {
            dump->error = ENOMEM;
            return MNL_CB_ERROR;
        }
        dump->flows = grown;
        dump->capacity = capacity;
    }
    dump->flows[dump->count++] = flow;
    return MNL_CB_OK;
}

int kubenft_ct_dump(kubenft_nl_socket *sock, uint8_t family, uint8_t l4proto, kubenft_ct_flow **out, uint32_t *count) {
    if (sock == NULL || out == NULL || count == NULL || (family != AF_INET && family != AF_INET6)) return EINVAL;
    *out = NULL;
    *count = 0;
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = ct_header(buffer, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family, sock->next_seq++);
    struct ct_dump dump = { l4proto, NULL, 0, 0, 0 };
    int rc = kubenft_nl_request(sock, nlh, ct_dump_cb, &dump);
    if (rc == 0 && dump.error != 0) rc = dump.error;
    if (rc != 0) {
        free(dump.flows);
        return rc;
    }
    *out = dump.flows;
    *count = dump.count;
    return 0;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const kubenft_ct_flow *flow) {
    struct nlattr *tuple = mnl_attr_nest_start(nlh, type);
    struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    if (flow->family == AF_INET) {
        mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, flow->orig_src);
        mnl_attr_put(nlh, CTA_IP_V4_DST, 4, flow->orig_dst);
    } else {
        mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, flow->orig_src);
        mnl_attr_put(nlh, CTA_IP_V6_DST, 16, flow->orig_dst);
    }
    mnl_attr_nest_end(nlh, ip);
    struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, flow->l4proto);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(flow->orig_sport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(flow->orig_dport));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
}

static int ignore_cb(const struct nlmsghdr *nlh, void *data) {
    (void)nlh;
    (void)data;
    return MNL_CB_OK;
}

int kubenft_ct_delete(kubenft_nl_socket *sock, const kubenft_ct_flow *flow) {
    if (sock == NULL || flow == NULL || (flow->family != AF_INET && flow->family != AF_INET6)) return EINVAL;
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = ct_header(buffer, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, flow->family, sock->next_seq++);
    put_tuple(nlh, CTA_TUPLE_ORIG, flow);
    if (flow->zone != 0) mnl_attr_put_u16(nlh, CTA_ZONE, htons(flow->zone));
    if (flow->id != 0) mnl_attr_put_u32(nlh, CTA_ID, htonl(flow->id));
    return kubenft_nl_request(sock, nlh, ignore_cb, NULL);
}
