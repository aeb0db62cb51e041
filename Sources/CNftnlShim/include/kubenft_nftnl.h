#ifndef KUBENFT_NFTNL_H
#define KUBENFT_NFTNL_H
/*
 * A small, plain C API over libmnl for kubenft: netfilter netlink sockets (optionally opened in
 * another network namespace), transaction batches built from libnftnl objects, sending a batch
 * with per-message acknowledgements, the ruleset generation id, and dumps for reading back.
 *
 * Every function returns 0 or a positive errno value unless documented otherwise; nothing here
 * exits the process or prints.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_rule;
struct nftnl_table_list;
struct nftnl_chain_list;
struct nftnl_set_list;
struct nftnl_rule_list;

/* ---- sockets ---- */

typedef struct kubenft_nl_socket kubenft_nl_socket;

/* Opens and binds a NETLINK_NETFILTER socket. With a non-NULL netns_path (e.g.
 * /var/run/netns/NAME) the socket is created inside that network namespace by a short-lived
 * helper thread, so the calling thread's namespace never changes. NULL on failure, *error set. */
kubenft_nl_socket *kubenft_nl_open(const char *netns_path, int *error);
void kubenft_nl_close(kubenft_nl_socket *sock);

/* Sizes the socket buffers (bytes). Uses SO_SNDBUFFORCE / SO_RCVBUFFORCE when permitted and falls
 * back to the unprivileged options (capped by net.core.[wr]mem_max). */
int kubenft_nl_set_buffers(kubenft_nl_socket *sock, uint32_t send_bytes, uint32_t receive_bytes);

/* The network namespace's cookie (SO_NETNS_COOKIE): unique per namespace until reboot, never reused. */
int kubenft_nl_netns_cookie(kubenft_nl_socket *sock, uint64_t *cookie);

/* The socket's netlink port id: the owner recorded in a table this socket creates with flags owner. */
uint32_t kubenft_nl_portid(const kubenft_nl_socket *sock);

/* The ruleset generation id (NFT_MSG_GETGEN). */
int kubenft_nl_get_genid(kubenft_nl_socket *sock, uint32_t *genid);

/* ---- batches ---- */

typedef struct kubenft_nl_batch kubenft_nl_batch;

/* An empty batch; message sequence numbers start at first_seq. NULL when out of memory. */
kubenft_nl_batch *kubenft_nl_batch_new(uint32_t first_seq);
void kubenft_nl_batch_free(kubenft_nl_batch *batch);

/* NFNL_MSG_BATCH_BEGIN; with guard, carries NFNL_BATCH_GENID so a concurrent change aborts it. */
int kubenft_nl_batch_begin(kubenft_nl_batch *batch, bool guard, uint32_t genid);
/* NFNL_MSG_BATCH_END. A batch sent without it is checked by the kernel and then aborted. */
int kubenft_nl_batch_end(kubenft_nl_batch *batch);

/* One message for one object; msg_type is an NFT_MSG_* value, flags are NLM_F_* flags added to
 * NLM_F_REQUEST | NLM_F_ACK. *seq receives the message's sequence number. */
int kubenft_nl_batch_add_table(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                               const struct nftnl_table *table, uint32_t *seq);
int kubenft_nl_batch_add_chain(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                               const struct nftnl_chain *chain, uint32_t *seq);
int kubenft_nl_batch_add_set(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                             const struct nftnl_set *set, uint32_t *seq);
int kubenft_nl_batch_add_rule(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                              const struct nftnl_rule *rule, uint32_t *seq);
/* The set's elements (table, name and, if present, id identify the set), split over as many
 * messages as needed to keep each element list under 64 KiB. *first_seq and *count describe them.
 * libnftnl's encoding: the reference the packed encoder below is tested against. */
int kubenft_nl_batch_add_elements(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                  struct nftnl_set *set, uint32_t *first_seq, uint32_t *count);

/* One element record of kubenft_nl_batch_add_packed_elements: this header (host byte order),
 * then key_length key bytes, data_length bytes of data (KUBENFT_PACKED_DATA) or of the verdict's
 * chain name with its NUL (KUBENFT_PACKED_VERDICT; 0 for a verdict without a chain), then
 * userdata_length bytes of userdata. */
typedef struct {
    uint16_t flags;
    uint16_t key_length;
    uint16_t data_length;
    uint16_t userdata_length;
    int32_t verdict;
} kubenft_packed_element;

enum {
    KUBENFT_PACKED_INTERVAL_END = 1, /* NFTA_SET_ELEM_FLAGS = NFT_SET_ELEM_INTERVAL_END */
    KUBENFT_PACKED_DATA = 2,         /* NFTA_SET_ELEM_DATA holds a value */
    KUBENFT_PACKED_VERDICT = 4,      /* NFTA_SET_ELEM_DATA holds a verdict */
};

/* The same messages as kubenft_nl_batch_add_elements, byte for byte, written straight from
 * packed element records (length bytes at packed) without a libnftnl object per element. Every
 * record is checked first: EINVAL (or EMSGSIZE for userdata over the limit) leaves the batch
 * unchanged. */
int kubenft_nl_batch_add_packed_elements(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                         const char *table, const char *set, bool has_id, uint32_t id,
                                         const uint8_t *packed, size_t length, uint32_t *first_seq, uint32_t *count);

/* NFT_MSG_DELSETELEM naming only the set: removes every element of it. */
int kubenft_nl_batch_flush_set(kubenft_nl_batch *batch, uint16_t family, const char *table, const char *set,
                               uint32_t *seq);

uint32_t kubenft_nl_batch_message_count(const kubenft_nl_batch *batch);
size_t kubenft_nl_batch_byte_count(const kubenft_nl_batch *batch);
/* The netlink type ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*, or NFNL_MSG_BATCH_*), flags and
 * sequence number of message index. */
int kubenft_nl_batch_message(const kubenft_nl_batch *batch, uint32_t index, uint16_t *type, uint16_t *flags,
                             uint32_t *seq);

/* The batch's bytes so far (every message, in order); *length receives their count. */
const void *kubenft_nl_batch_bytes(const kubenft_nl_batch *batch, size_t *length);

/* Rewrites the NFNL_BATCH_GENID guard of a batch begun with guard = true. */
int kubenft_nl_batch_set_genid(kubenft_nl_batch *batch, uint32_t genid);

/* ---- sending ---- */

/* One negative acknowledgement: the sequence number of the refused message, the positive errno,
 * and, when the kernel named it, the byte offset of the offending attribute and a message. */
typedef struct {
    uint32_t seq;
    int32_t error;
    uint32_t attribute_offset;
    char message[160];
} kubenft_nl_error;

typedef struct {
    uint32_t acknowledged;    /* replies with error 0 */
    uint32_t error_count;     /* negative replies, of which the first max_errors are stored */
    bool lost_replies;        /* the receive queue overflowed (ENOBUFS) */
} kubenft_nl_outcome;

/* Sends the batch in one sendmsg and collects every reply by sequence number. Returns 0 when the
 * batch was delivered (look at outcome for refusals) or an errno when it could not be sent. */
int kubenft_nl_batch_send(kubenft_nl_socket *sock, const kubenft_nl_batch *batch, kubenft_nl_error *errors,
                          uint32_t max_errors, kubenft_nl_outcome *outcome);

/* ---- change events ---- */

/* Subscribes the socket to nf_tables change events (NFNLGRP_NFTABLES): every commit, by anyone,
 * then arrives as one event per changed object followed by NFT_MSG_NEWGEN with the new generation.
 * Use a socket that sends no requests. */
int kubenft_nl_subscribe(kubenft_nl_socket *sock);

/* What the events read so far say about one table. A commit's events come before its NEWGEN. */
typedef struct {
    bool touched;         /* a completed commit changed the table; last_touch is its generation */
    uint32_t last_touch;
    bool pending;         /* events that change the table whose commit's NEWGEN has not arrived yet */
    bool seen;            /* a NEWGEN arrived; last_genid is the latest */
    uint32_t last_genid;
} kubenft_nl_watch;

/* Reads the events queued on a subscribed socket into *watch. Without wait, reads what is queued;
 * with wait, also waits until the NEWGEN of generation `until` (or a later one) arrived, giving up
 * with ETIMEDOUT after timeout_ms. ENOBUFS: events were lost, nothing is known. */
int kubenft_nl_monitor_scan(kubenft_nl_socket *sock, uint16_t family, const char *table, bool wait, uint32_t until,
                            int timeout_ms, kubenft_nl_watch *watch);

/* ---- dumps ---- */

/* Every table of the family (NFPROTO_UNSPEC: all). NULL on error, *error set. */
struct nftnl_table_list *kubenft_nl_dump_tables(kubenft_nl_socket *sock, uint16_t family, int *error);
/* Chains, sets and rules of one table, in the kernel's order. NULL on error (ENOENT: no such table). */
struct nftnl_chain_list *kubenft_nl_dump_chains(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error);
struct nftnl_set_list *kubenft_nl_dump_sets(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error);
struct nftnl_rule_list *kubenft_nl_dump_rules(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error);
/* Appends the rules of one chain to into. A dump of the whole table makes the kernel walk every
 * rule before the resume point again for each reply buffer (quadratic in the table's size); one
 * dump per chain stays linear. */
int kubenft_nl_dump_chain_rules(kubenft_nl_socket *sock, uint16_t family, const char *table, const char *chain,
                                struct nftnl_rule_list *into);
/* Every dump returns EINTR when the kernel marked a reply NLM_F_DUMP_INTR (the ruleset generation
 * changed while it was dumped): the result is incomplete and the caller reads again. */

/* One object of a table that kubenft never creates (a stateful object or a flowtable): its name
 * and, for stateful objects, its NFT_OBJECT_* type (0 for flowtables). */
typedef struct {
    char name[256];
    uint32_t type;
} kubenft_nl_named;

/* The stateful objects (msg_type NFT_MSG_GETOBJ: counters, quotas, limits, ct helpers, ...) or the
 * flowtables (NFT_MSG_GETFLOWTABLE) of one table. *out is malloc'd (free it with free()), *count
 * its length; both are NULL / 0 when there are none. */
int kubenft_nl_dump_named(kubenft_nl_socket *sock, uint16_t msg_type, uint16_t family, const char *table,
                          kubenft_nl_named **out, uint32_t *count);

/* ---- counter objects ---- */

/* NFT_MSG_NEWOBJ (counter, zero packets and bytes) or NFT_MSG_DELOBJ for one named counter of
 * table; userdata (the comment, as nft writes it) may be NULL. Names and userdata are checked
 * (name under 256 bytes, userdata at most 256 bytes): EINVAL otherwise. */
int kubenft_nl_batch_add_counter(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                 const char *table, const char *name, const void *userdata, uint32_t userdata_length,
                                 uint32_t *seq);

/* One named counter as a dump returns it. */
typedef struct {
    char name[256];
    uint64_t packets;
    uint64_t bytes;
    uint8_t userdata[256];
    uint32_t userdata_length;
} kubenft_nl_counter;

/* Every named counter of one table, in one NFT_MSG_GETOBJ dump (with reset, NFT_MSG_GETOBJ_RESET:
 * the kernel zeroes them as it reports them). *out is malloc'd (free it with free()), *count its
 * length; both NULL / 0 when there are none. */
int kubenft_nl_dump_counters(kubenft_nl_socket *sock, uint16_t family, const char *table, bool reset,
                             kubenft_nl_counter **out, uint32_t *count);

/* ---- nflog (nfnetlink_log) ---- */

/* Binds the socket to nflog group (NFULNL_CFG_CMD_BIND) and asks for the first copy_bytes of each
 * packet. Use a socket that sends nothing else. EBUSY: another listener holds the group. */
int kubenft_nflog_bind(kubenft_nl_socket *sock, uint16_t group, uint16_t copy_bytes);

/* One packet the kernel logged to a group: the rule's prefix and the start of the packet (from
 * its network header). */
typedef struct {
    char prefix[128];
    uint8_t payload[128];
    uint32_t payload_length;
    uint16_t group;
    uint8_t family;
} kubenft_nflog_entry;

/* Waits up to timeout_ms (-1: forever) for logged packets and stores at most max of those in
 * one read into entries; *count is 0 on timeout. ENOBUFS: packets were lost (read on). */
int kubenft_nflog_read(kubenft_nl_socket *sock, int timeout_ms, kubenft_nflog_entry *entries, uint32_t max, uint32_t *count);

/* Adds the elements of the named set (table and name taken from set) to set. */
int kubenft_nl_dump_elements(kubenft_nl_socket *sock, uint16_t family, struct nftnl_set *set);

#ifdef __cplusplus
}
#endif
#endif
