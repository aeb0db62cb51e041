#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct mnl_socket *open_here(uint32_t *portid, int *error) {
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (nl == NULL) {
        *error = errno;
        return NULL;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *error = errno;
        mnl_socket_close(nl);
        return NULL;
    }
    int on = 1;
    /* Short error replies (no echo of the refused message) carrying the attribute offset. */
    (void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
    (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof(on));
    *portid = mnl_socket_get_portid(nl);
    return nl;
}

struct open_request {
    const char *path;
    struct mnl_socket *nl;
    uint32_t portid;
    int error;
};

/* Runs on its own thread: entering the namespace changes only this thread, which then ends. */
static void *open_in_namespace(void *argument) {
    struct open_request *request = argument;
    int fd = open(request->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        request->error = errno;
        return NULL;
    }
    if (setns(fd, CLONE_NEWNET) < 0) {
        request->error = errno;
        close(fd);
        return NULL;
    }
    close(fd);
    request->nl = open_here(&request->portid, &request->error);
    return NULL;
}

kubenft_nl_socket *kubenft_nl_open(const char *netns_path, int *error) {
    int local_error = 0;
    if (error == NULL) error = &local_error;
    *error = 0;
    struct open_request request = { .path = netns_path, .nl = NULL, .portid = 0, .error = 0 };
    if (netns_path == NULL) {
        request.nl = open_here(&request.portid, &request.error);
    } else {
        pthread_t thread;
        int rc = pthread_create(&thread, NULL, open_in_namespace, &request);
        if (rc != 0) {
            *error = rc;
            return NULL;
        }
        pthread_join(thread, NULL);
    }
    if (request.nl == NULL) {
        *error = request.error != 0 ? request.error : EIO;
        return NULL;
    }
    kubenft_nl_socket *sock = calloc(1, sizeof(*sock));
    if (sock == NULL) {
        mnl_socket_close(request.nl);
        *error = ENOMEM;
        return NULL;
    }
    sock->nl = request.nl;
    sock->portid = request.portid;
    sock->next_seq = (uint32_t)time(NULL);
    return sock;
}

void kubenft_nl_close(kubenft_nl_socket *sock) {
    if (sock == NULL) return;
    mnl_socket_close(sock->nl);
    free(sock->receive);
    free(sock);
}

static int set_buffer(int fd, int forced, int plain, uint32_t bytes) {
    int value = bytes > (uint32_t)(INT32_MAX / 2) ? INT32_MAX / 2 : (int)bytes;
    if (setsockopt(fd, SOL_SOCKET, forced, &value, sizeof(value)) == 0) return 0;
    if (setsockopt(fd, SOL_SOCKET, plain, &value, sizeof(value)) == 0) return 0;
    return errno;
}

int kubenft_nl_set_buffers(kubenft_nl_socket *sock, uint32_t send_bytes, uint32_t receive_bytes) {
    if (sock == NULL) return EINVAL;
    int fd = mnl_socket_get_fd(sock->nl);
    int rc = 0;
    if (send_bytes > 0) rc = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, send_bytes);
    if (rc == 0 && receive_bytes > 0) rc = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, receive_bytes);
    return rc;
}

/* Walks one receive buffer of replies to `seq`. Replies to an earlier, abandoned request (a dump
 * cut short by an error) are skipped. Returns true when the request is complete. */
static bool take_request_replies(const char *buffer, size_t length, uint32_t seq, uint32_t portid, bool is_dump,
                                 mnl_cb_t cb, void *data, int *rc, bool *interrupted) {
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buffer;
    int remaining = (int)length;
    for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
        if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != portid)) continue;
        /* The kernel marks a dump part when the ruleset generation changed since the dump began. */
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) *interrupted = true;
        if (nlh->nlmsg_type == NLMSG_DONE) return true;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
            if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*err))) {
                if (*rc == 0) *rc = EPROTO;
            } else if (err->error != 0 && *rc == 0) {
                *rc = -err->error;
            }
            return true;
        }
        if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;
        /* After a failure or an interruption the rest of the dump is only drained. */
        if (*rc != 0 || *interrupted) continue;
        int run = cb(nlh, data);
        if (run == MNL_CB_ERROR) *rc = errno != 0 ? errno : EIO;
        else if (run == MNL_CB_STOP && !is_dump) return true;
    }
    return false;
}

int kubenft_nl_request(kubenft_nl_socket *sock, struct nlmsghdr *request, mnl_cb_t cb, void *data) {
    if (sock->receive == NULL) {
        sock->receive_size = 256 * 1024;
        sock->receive = malloc(sock->receive_size);
        if (sock->receive == NULL) return ENOMEM;
    }
    if (mnl_socket_sendto(sock->nl, request, request->nlmsg_len) < 0) return errno;
    bool is_dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    int rc = 0;
    bool interrupted = false;
    for (;;) {
        ssize_t received = mnl_socket_recvfrom(sock->nl, sock->receive, sock->receive_size);
        if (received < 0) {
            if (errno == EINTR) continue;
            if (rc == 0) rc = errno;
            break;
        }
        errno = 0;
        if (take_request_replies(sock->receive, (size_t)received, request->nlmsg_seq, sock->portid, is_dump, cb, data,
                                 &rc, &interrupted)) break;
    }
    /* An interrupted dump is incomplete: the caller reads again (EINTR, as libmnl reports it). */
    if (interrupted && (rc == 0 || rc == EINTR)) return EINTR;
    return rc;
}

struct genid_reply {
    uint32_t genid;
    bool found;
};

static int genid_cb(const struct nlmsghdr *nlh, void *data) {
    struct genid_reply *reply = data;
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_get_payload_len(attr) == sizeof(uint32_t)) {
            reply->genid = ntohl(mnl_attr_get_u32(attr));
            reply->found = true;
        }
    }
    return MNL_CB_OK;
}

int kubenft_nl_get_genid(kubenft_nl_socket *sock, uint32_t *genid) {
    if (sock == NULL || genid == NULL) return EINVAL;
    char buffer[8192];
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK, sock->next_seq++);
    struct genid_reply reply = { 0, false };
    int rc = kubenft_nl_request(sock, nlh, genid_cb, &reply);
    if (rc != 0) return rc;
    if (!reply.found) return EPROTO;
    *genid = reply.genid;
    return 0;
}

uint32_t kubenft_nl_portid(const kubenft_nl_socket *sock) {
    return sock == NULL ? 0 : sock->portid;
}

int kubenft_nl_netns_cookie(kubenft_nl_socket *sock, uint64_t *cookie) {
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
    if (sock == NULL || cookie == NULL) return EINVAL;
    socklen_t length = sizeof(*cookie);
    if (getsockopt(mnl_socket_get_fd(sock->nl), SOL_SOCKET, SO_NETNS_COOKIE, cookie, &length) < 0) return errno;
    return length == sizeof(*cookie) ? 0 : EPROTO;
}
