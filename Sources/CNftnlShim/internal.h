#ifndef KUBENFT_NFTNL_INTERNAL_H
#define KUBENFT_NFTNL_INTERNAL_H
#include <libmnl/libmnl.h>
#include "kubenft_nftnl.h"

struct kubenft_nl_socket {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t next_seq;
    /* Receive buffer reused by every request (many small dumps in a row would otherwise map and
     * unmap a fresh one each time). */
    char *receive;
    size_t receive_size;
};

struct kubenft_nl_batch {
    char *buffer;
    size_t length;
    size_t capacity;
    size_t *offsets;
    uint32_t count;
    uint32_t offsets_capacity;
    uint32_t next_seq;
};

/* Sends one request and runs cb over every reply until the dump or acknowledgement ends. */
int kubenft_nl_request(kubenft_nl_socket *sock, struct nlmsghdr *request, mnl_cb_t cb, void *data);

/* Starts one message at the batch's tail (room for KUBENFT_MESSAGE_ROOM bytes); NULL when out of
 * memory. kubenft_nl_batch_close records it once its payload is written. */
struct nlmsghdr *kubenft_nl_batch_open(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                       uint32_t *seq);
void kubenft_nl_batch_close(kubenft_nl_batch *batch, struct nlmsghdr *nlh);

#endif
