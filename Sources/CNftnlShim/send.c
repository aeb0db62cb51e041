#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include "internal.h"

struct reply_reader {
    kubenft_nl_socket *sock;
    const kubenft_nl_batch *batch;
    kubenft_nl_error *errors;
    uint32_t max_errors;
    kubenft_nl_outcome outcome;
    atomic_int sent;
    int error;
};

static void record_error(struct reply_reader *reader, const struct nlmsghdr *nlh, const struct nlmsgerr *err) {
    uint32_t index = reader->outcome.error_count++;
    if (index >= reader->max_errors || reader->errors == NULL) return;
    kubenft_nl_error *slot = &reader->errors[index];
    memset(slot, 0, sizeof(*slot));
    slot->seq = nlh->nlmsg_seq;
    slot->error = -err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return;
    /* The attributes follow the error and, unless capped, the echoed request: every length is
     * checked against the reply before it is subtracted or skipped. */
    size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN; /* take_replies checked nlmsg_len >= NLMSG_LENGTH(*err) */
    size_t offset = sizeof(*err);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        if (err->msg.nlmsg_len < sizeof(err->msg) || err->msg.nlmsg_len - sizeof(err->msg) > payload - offset) return;
        offset += err->msg.nlmsg_len - sizeof(err->msg);
    }
    if (NLMSG_ALIGN(offset) >= payload) return;
    const char *start = (const char *)mnl_nlmsg_get_payload(nlh) + NLMSG_ALIGN(offset);
    const char *end = (const char *)nlh + nlh->nlmsg_len;
    while ((size_t)(end - start) >= sizeof(struct nlattr)) {
        const struct nlattr *attr = (const struct nlattr *)start;
        if (attr->nla_len < NLA_HDRLEN || attr->nla_len > (size_t)(end - start)) break;
        const char *payload = start + NLA_HDRLEN;
        size_t length = attr->nla_len - NLA_HDRLEN;
        if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_OFFS && length == sizeof(uint32_t)) {
            memcpy(&slot->attribute_offset, payload, sizeof(uint32_t));
        } else if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && length > 0) {
            size_t copy = length < sizeof(slot->message) - 1 ? length : sizeof(slot->message) - 1;
            memcpy(slot->message, payload, copy);
            slot->message[copy] = 0;
        }
        if (NLA_ALIGN(attr->nla_len) >= (size_t)(end - start)) break;
        start += NLA_ALIGN(attr->nla_len);
    }
}

static void take_replies(struct reply_reader *reader, const char *buffer, size_t length) {
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buffer;
    int remaining = (int)length;
    while (mnl_nlmsg_ok(nlh, remaining)) {
        if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
            if (err->error == 0) reader->outcome.acknowledged++;
            else record_error(reader, nlh, err);
        }
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
}

/* Drains replies while the kernel processes the batch, so a long batch does not overflow the
 * receive queue; stops once the batch was sent and the queue is empty. */
static void *read_replies(void *argument) {
    struct reply_reader *reader = argument;
    int fd = mnl_socket_get_fd(reader->sock->nl);
    size_t size = 256 * 1024;
    char *buffer = malloc(size);
    if (buffer == NULL) {
        reader->error = ENOMEM;
        return NULL;
    }
    for (;;) {
        int sent = atomic_load(&reader->sent);
        ssize_t received = recv(fd, buffer, size, MSG_DONTWAIT);
        if (received > 0) {
            take_replies(reader, buffer, (size_t)received);
            continue;
        }
        if (received < 0 && errno == ENOBUFS) {
            reader->outcome.lost_replies = true;
            continue;
        }
        if (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            reader->error = errno;
            break;
        }
        if (sent) break;
        struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
        (void)poll(&pfd, 1, 5);
    }
    free(buffer);
    return NULL;
}

int kubenft_nl_batch_send(kubenft_nl_socket *sock, const kubenft_nl_batch *batch, kubenft_nl_error *errors,
                          uint32_t max_errors, kubenft_nl_outcome *outcome) {
    if (sock == NULL || batch == NULL || outcome == NULL) return EINVAL;
    struct reply_reader reader = { .sock = sock, .batch = batch, .errors = errors, .max_errors = max_errors };
    atomic_init(&reader.sent, 0);
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, read_replies, &reader);
    if (rc != 0) return rc;
    int send_error = 0;
    if (mnl_socket_sendto(sock->nl, batch->buffer, batch->length) < 0) send_error = errno;
    atomic_store(&reader.sent, 1);
    pthread_join(thread, NULL);
    *outcome = reader.outcome;
    if (send_error != 0) return send_error;
    return reader.error;
}
