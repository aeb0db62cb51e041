#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include "internal.h"

/* Room guaranteed before building one message: element lists stop below 64 KiB, and one rule or
 * set message of kubenft's shapes is far smaller. */
#define KUBENFT_MESSAGE_ROOM (256 * 1024)
/* Keep an element list attribute below the 16-bit attribute length. */
#define KUBENFT_ELEMENT_LIST_LIMIT 65000

/* libnftnl's builders write without knowing the size of the buffer, so a message is only built
 * when an upper bound of what they write fits in the room reserve() guarantees. The bounds are
 * generous: names are at most NFT_NAME_MAXLEN bytes, data values NFT_DATA_VALUE_MAXLEN, and one
 * expression's attributes (a name, a few registers and at most two values or names) stay below
 * KUBENFT_EXPRESSION_ROOM. */
#define KUBENFT_NAME_LIMIT 256
#define KUBENFT_EXPRESSION_ROOM 1024
#define KUBENFT_OBJECT_ROOM 4096
/* The kernel's limit of expressions in one rule (NFT_RULE_MAXEXPRS). */
#define KUBENFT_RULE_EXPRESSION_LIMIT 128
/* An element: key, key end and data of at most 64 bytes each or a verdict naming a chain,
 * timeouts and flags, plus its comment. */
#define KUBENFT_ELEMENT_ROOM 1024
#define KUBENFT_USERDATA_LIMIT 1024

_Static_assert(KUBENFT_OBJECT_ROOM + KUBENFT_USERDATA_LIMIT
                   + KUBENFT_RULE_EXPRESSION_LIMIT * KUBENFT_EXPRESSION_ROOM <= KUBENFT_MESSAGE_ROOM,
               "the largest rule must fit in the room reserved for one message");
_Static_assert(KUBENFT_OBJECT_ROOM + KUBENFT_ELEMENT_LIST_LIMIT + KUBENFT_ELEMENT_ROOM + KUBENFT_USERDATA_LIMIT
                   <= KUBENFT_MESSAGE_ROOM,
               "an element list and the element that overflows it must fit in the room of one message");

static bool name_fits(const char *name) { return name == NULL || strnlen(name, KUBENFT_NAME_LIMIT) < KUBENFT_NAME_LIMIT; }

static bool userdata_fits(uint32_t length) { return length <= KUBENFT_USERDATA_LIMIT; }

static int count_expression(struct nftnl_expr *expression, void *data) {
    (void)expression;
    (*(uint32_t *)data)++;
    return 0;
}

/* EMSGSIZE unless everything libnftnl will write for this rule fits in one message's room. */
static int rule_fits(struct nftnl_rule *rule) {
    uint32_t expressions = 0, userdata = 0;
    if (nftnl_expr_foreach(rule, count_expression, &expressions) < 0) return EINVAL;
    if (expressions > KUBENFT_RULE_EXPRESSION_LIMIT) return EMSGSIZE;
    if (nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) (void)nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &userdata);
    if (!userdata_fits(userdata)) return EMSGSIZE;
    if (!name_fits(nftnl_rule_get_str(rule, NFTNL_RULE_TABLE)) || !name_fits(nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN)))
        return EINVAL;
    return 0;
}

static int chain_fits(const struct nftnl_chain *chain) {
    uint32_t userdata = 0;
    if (nftnl_chain_is_set(chain, NFTNL_CHAIN_USERDATA)) (void)nftnl_chain_get_data(chain, NFTNL_CHAIN_USERDATA, &userdata);
    if (!userdata_fits(userdata)) return EMSGSIZE;
    if (nftnl_chain_is_set(chain, NFTNL_CHAIN_DEV)) return EINVAL; /* kubenft has no netdev chains */
    if (!name_fits(nftnl_chain_get_str(chain, NFTNL_CHAIN_TABLE)) || !name_fits(nftnl_chain_get_str(chain, NFTNL_CHAIN_NAME))
        || !name_fits(nftnl_chain_get_str(chain, NFTNL_CHAIN_TYPE)))
        return EINVAL;
    return 0;
}

static int set_fits(const struct nftnl_set *set) {
    uint32_t userdata = 0;
    if (nftnl_set_is_set(set, NFTNL_SET_USERDATA)) (void)nftnl_set_get_data(set, NFTNL_SET_USERDATA, &userdata);
    if (!userdata_fits(userdata)) return EMSGSIZE;
    if (nftnl_set_is_set(set, NFTNL_SET_EXPR) || nftnl_set_is_set(set, NFTNL_SET_EXPRESSIONS)) return EINVAL;
    if (!name_fits(nftnl_set_get_str(set, NFTNL_SET_TABLE)) || !name_fits(nftnl_set_get_str(set, NFTNL_SET_NAME))) return EINVAL;
    return 0;
}

static int table_fits(const struct nftnl_table *table) {
    uint32_t userdata = 0;
    if (nftnl_table_is_set(table, NFTNL_TABLE_USERDATA)) (void)nftnl_table_get_data(table, NFTNL_TABLE_USERDATA, &userdata);
    if (!userdata_fits(userdata)) return EMSGSIZE;
    return name_fits(nftnl_table_get_str(table, NFTNL_TABLE_NAME)) ? 0 : EINVAL;
}

static int element_fits(struct nftnl_set_elem *element) {
    uint32_t userdata = 0;
    if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_USERDATA)) (void)nftnl_set_elem_get(element, NFTNL_SET_ELEM_USERDATA, &userdata);
    if (!userdata_fits(userdata)) return EMSGSIZE;
    if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_EXPR) || nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_EXPRESSIONS)) return EINVAL;
    if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_CHAIN) && !name_fits(nftnl_set_elem_get_str(element, NFTNL_SET_ELEM_CHAIN)))
        return EINVAL;
    return 0;
}

kubenft_nl_batch *kubenft_nl_batch_new(uint32_t first_seq) {
    kubenft_nl_batch *batch = calloc(1, sizeof(*batch));
    if (batch == NULL) return NULL;
    batch->next_seq = first_seq;
    return batch;
}

void kubenft_nl_batch_free(kubenft_nl_batch *batch) {
    if (batch == NULL) return;
    free(batch->buffer);
    free(batch->offsets);
    free(batch);
}

static int reserve(kubenft_nl_batch *batch) {
    if (batch->capacity - batch->length < KUBENFT_MESSAGE_ROOM) {
        size_t capacity = batch->capacity < 1024 * 1024 ? 1024 * 1024 : batch->capacity * 2;
        while (capacity - batch->length < KUBENFT_MESSAGE_ROOM) capacity *= 2;
        char *grown = realloc(batch->buffer, capacity);
        if (grown == NULL) return ENOMEM;
        memset(grown + batch->length, 0, capacity - batch->length);
        batch->buffer = grown;
        batch->capacity = capacity;
    }
    if (batch->count == batch->offsets_capacity) {
        uint32_t capacity = batch->offsets_capacity == 0 ? 1024 : batch->offsets_capacity * 2;
        size_t *grown = realloc(batch->offsets, capacity * sizeof(size_t));
        if (grown == NULL) return ENOMEM;
        batch->offsets = grown;
        batch->offsets_capacity = capacity;
    }
    return 0;
}

static char *tail(kubenft_nl_batch *batch) { return batch->buffer + batch->length; }

/* Records the message just built at the tail. */
static void commit(kubenft_nl_batch *batch, struct nlmsghdr *nlh) {
    batch->offsets[batch->count++] = batch->length;
    batch->length += NLMSG_ALIGN(nlh->nlmsg_len);
    batch->next_seq++;
}

int kubenft_nl_batch_begin(kubenft_nl_batch *batch, bool guard, uint32_t genid) {
    int rc = reserve(batch);
    if (rc != 0) return rc;
    struct nlmsghdr *nlh = nftnl_batch_begin(tail(batch), batch->next_seq);
    nlh->nlmsg_flags |= NLM_F_ACK;
    if (guard) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
    commit(batch, nlh);
    return 0;
}

int kubenft_nl_batch_end(kubenft_nl_batch *batch) {
    int rc = reserve(batch);
    if (rc != 0) return rc;
    struct nlmsghdr *nlh = nftnl_batch_end(tail(batch), batch->next_seq);
    nlh->nlmsg_flags |= NLM_F_ACK;
    commit(batch, nlh);
    return 0;
}

static struct nlmsghdr *header(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags) {
    return nftnl_nlmsg_build_hdr(tail(batch), msg_type, family, flags | NLM_F_ACK, batch->next_seq);
}

struct nlmsghdr *kubenft_nl_batch_open(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                       uint32_t *seq) {
    if (reserve(batch) != 0) return NULL;
    if (seq != NULL) *seq = batch->next_seq;
    return header(batch, msg_type, family, flags);
}

void kubenft_nl_batch_close(kubenft_nl_batch *batch, struct nlmsghdr *nlh) { commit(batch, nlh); }

int kubenft_nl_batch_add_table(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                               const struct nftnl_table *table, uint32_t *seq) {
    if (batch == NULL || table == NULL) return EINVAL;
    int rc = table_fits(table);
    if (rc == 0) rc = reserve(batch);
    if (rc != 0) return rc;
    if (seq != NULL) *seq = batch->next_seq;
    struct nlmsghdr *nlh = header(batch, msg_type, family, flags);
    nftnl_table_nlmsg_build_payload(nlh, table);
    commit(batch, nlh);
    return 0;
}

int kubenft_nl_batch_add_chain(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                               const struct nftnl_chain *chain, uint32_t *seq) {
    if (batch == NULL || chain == NULL) return EINVAL;
    int rc = chain_fits(chain);
    if (rc == 0) rc = reserve(batch);
    if (rc != 0) return rc;
    if (seq != NULL) *seq = batch->next_seq;
    struct nlmsghdr *nlh = header(batch, msg_type, family, flags);
    nftnl_chain_nlmsg_build_payload(nlh, chain);
    commit(batch, nlh);
    return 0;
}

int kubenft_nl_batch_add_set(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                             const struct nftnl_set *set, uint32_t *seq) {
    if (batch == NULL || set == NULL) return EINVAL;
    int rc = set_fits(set);
    if (rc == 0) rc = reserve(batch);
    if (rc != 0) return rc;
    if (seq != NULL) *seq = batch->next_seq;
    struct nlmsghdr *nlh = header(batch, msg_type, family, flags);
    nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *)set);
    commit(batch, nlh);
    return 0;
}

int kubenft_nl_batch_add_rule(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                              const struct nftnl_rule *rule, uint32_t *seq) {
    if (batch == NULL || rule == NULL) return EINVAL;
    int rc = rule_fits((struct nftnl_rule *)rule);
    if (rc == 0) rc = reserve(batch);
    if (rc != 0) return rc;
    if (seq != NULL) *seq = batch->next_seq;
    struct nlmsghdr *nlh = header(batch, msg_type, family, flags);
    nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *)rule);
    commit(batch, nlh);
    return 0;
}

struct element_writer {
    kubenft_nl_batch *batch;
    uint16_t msg_type, family, flags;
    const char *table, *name;
    bool has_id;
    uint32_t id;
    struct nlmsghdr *nlh;
    struct nlattr *list;
    int index;
    uint32_t messages;
    int error;
};

static int open_element_message(struct element_writer *writer) {
    int rc = reserve(writer->batch);
    if (rc != 0) return rc;
    struct nlmsghdr *nlh = header(writer->batch, writer->msg_type, writer->family, writer->flags);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, writer->name);
    if (writer->has_id) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(writer->id));
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, writer->table);
    writer->nlh = nlh;
    writer->list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    writer->index = 0;
    return 0;
}

static void close_element_message(struct element_writer *writer) {
    mnl_attr_nest_end(writer->nlh, writer->list);
    commit(writer->batch, writer->nlh);
    writer->messages++;
    writer->nlh = NULL;
}

static int write_element(struct nftnl_set_elem *element, void *data) {
    struct element_writer *writer = data;
    if ((writer->error = element_fits(element)) != 0) return -1;
    if (writer->nlh == NULL && (writer->error = open_element_message(writer)) != 0) return -1;
    uint32_t mark = writer->nlh->nlmsg_len;
    nftnl_set_elem_nlmsg_build(writer->nlh, element, ++writer->index);
    if (writer->nlh->nlmsg_len - ((char *)writer->list - (char *)writer->nlh) <= KUBENFT_ELEMENT_LIST_LIMIT) return 0;
    if (writer->index == 1) {
        writer->error = EMSGSIZE;
        return -1;
    }
    writer->nlh->nlmsg_len = mark;
    close_element_message(writer);
    if ((writer->error = open_element_message(writer)) != 0) return -1;
    nftnl_set_elem_nlmsg_build(writer->nlh, element, ++writer->index);
    return 0;
}

int kubenft_nl_batch_add_elements(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                  struct nftnl_set *set, uint32_t *first_seq, uint32_t *count) {
    if (batch == NULL || set == NULL) return EINVAL;
    struct element_writer writer = {
        .batch = batch, .msg_type = msg_type, .family = family, .flags = flags,
        .table = nftnl_set_get_str(set, NFTNL_SET_TABLE), .name = nftnl_set_get_str(set, NFTNL_SET_NAME),
        .has_id = nftnl_set_is_set(set, NFTNL_SET_ID),
        .id = nftnl_set_is_set(set, NFTNL_SET_ID) ? nftnl_set_get_u32(set, NFTNL_SET_ID) : 0,
    };
    if (writer.table == NULL || writer.name == NULL || !name_fits(writer.table) || !name_fits(writer.name)) return EINVAL;
    if (first_seq != NULL) *first_seq = batch->next_seq;
    if (nftnl_set_elem_foreach(set, write_element, &writer) < 0) {
        return writer.error != 0 ? writer.error : EINVAL;
    }
    if (writer.nlh != NULL) close_element_message(&writer);
    if (count != NULL) *count = writer.messages;
    return 0;
}

/* A packed record's parts, checked against the bytes left in the buffer. */
struct packed_record {
    kubenft_packed_element header;
    const uint8_t *key, *data, *userdata;
    size_t size;
};

static int read_record(const uint8_t *bytes, size_t left, struct packed_record *record) {
    if (left < sizeof(record->header)) return EINVAL;
    memcpy(&record->header, bytes, sizeof(record->header));
    const kubenft_packed_element *h = &record->header;
    bool verdict = h->flags & KUBENFT_PACKED_VERDICT, data = h->flags & KUBENFT_PACKED_DATA;
    if (verdict && data) return EINVAL;
    if (h->key_length == 0 || h->key_length > NFT_DATA_VALUE_MAXLEN) return EINVAL;
    if (data && (h->data_length == 0 || h->data_length > NFT_DATA_VALUE_MAXLEN)) return EINVAL;
    if (!verdict && !data && h->data_length != 0) return EINVAL;
    if (!userdata_fits(h->userdata_length)) return EMSGSIZE;
    size_t size = sizeof(*h) + (size_t)h->key_length + h->data_length + h->userdata_length;
    if (size > left) return EINVAL;
    record->key = bytes + sizeof(*h);
    record->data = record->key + h->key_length;
    record->userdata = record->data + h->data_length;
    record->size = size;
    /* A chain name carries its NUL and must fit like every other name. */
    if (verdict && h->data_length != 0
        && (record->data[h->data_length - 1] != 0 || !name_fits((const char *)record->data)))
        return EINVAL;
    return 0;
}

/* One element in libnftnl's attribute order (nftnl_set_elem_nlmsg_build_payload): flags, key,
 * verdict or data, userdata. */
static void put_record(struct nlmsghdr *nlh, const struct packed_record *record, uint16_t index) {
    const kubenft_packed_element *h = &record->header;
    struct nlattr *element = mnl_attr_nest_start(nlh, index);
    if (h->flags & KUBENFT_PACKED_INTERVAL_END) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
    struct nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, h->key_length, record->key);
    mnl_attr_nest_end(nlh, key);
    if (h->flags & KUBENFT_PACKED_VERDICT) {
        struct nlattr *data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
        struct nlattr *verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
        mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)h->verdict));
        if (h->data_length != 0) mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, (const char *)record->data);
        mnl_attr_nest_end(nlh, verdict);
        mnl_attr_nest_end(nlh, data);
    } else if (h->flags & KUBENFT_PACKED_DATA) {
        struct nlattr *data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, h->data_length, record->data);
        mnl_attr_nest_end(nlh, data);
    }
    if (h->userdata_length != 0) mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, h->userdata_length, record->userdata);
    mnl_attr_nest_end(nlh, element);
}

/* Like write_element, for one packed record. */
static int write_record(struct element_writer *writer, const struct packed_record *record) {
    int rc;
    if (writer->nlh == NULL && (rc = open_element_message(writer)) != 0) return rc;
    uint32_t mark = writer->nlh->nlmsg_len;
    put_record(writer->nlh, record, (uint16_t)++writer->index);
    if (writer->nlh->nlmsg_len - ((char *)writer->list - (char *)writer->nlh) <= KUBENFT_ELEMENT_LIST_LIMIT) return 0;
    if (writer->index == 1) return EMSGSIZE;
    writer->nlh->nlmsg_len = mark;
    close_element_message(writer);
    if ((rc = open_element_message(writer)) != 0) return rc;
    put_record(writer->nlh, record, (uint16_t)++writer->index);
    return 0;
}

int kubenft_nl_batch_add_packed_elements(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                         const char *table, const char *set, bool has_id, uint32_t id,
                                         const uint8_t *packed, size_t length, uint32_t *first_seq, uint32_t *count) {
    if (batch == NULL || table == NULL || set == NULL || (packed == NULL && length != 0)) return EINVAL;
    if (!name_fits(table) || !name_fits(set)) return EINVAL;
    struct element_writer writer = {
        .batch = batch, .msg_type = msg_type, .family = family, .flags = flags,
        .table = table, .name = set, .has_id = has_id, .id = id,
    };
    /* Every record is checked before anything is written, so a bad one leaves the batch as it was. */
    struct packed_record record;
    for (size_t offset = 0; offset < length; offset += record.size) {
        int rc = read_record(packed + offset, length - offset, &record);
        if (rc != 0) return rc;
    }
    if (first_seq != NULL) *first_seq = batch->next_seq;
    for (size_t offset = 0; offset < length; offset += record.size) {
        (void)read_record(packed + offset, length - offset, &record);
        int rc = write_record(&writer, &record);
        if (rc != 0) return rc;
    }
    if (writer.nlh != NULL) close_element_message(&writer);
    if (count != NULL) *count = writer.messages;
    return 0;
}

const void *kubenft_nl_batch_bytes(const kubenft_nl_batch *batch, size_t *length) {
    if (length != NULL) *length = batch == NULL ? 0 : batch->length;
    return batch == NULL ? NULL : batch->buffer;
}

int kubenft_nl_batch_flush_set(kubenft_nl_batch *batch, uint16_t family, const char *table, const char *set,
                               uint32_t *seq) {
    if (batch == NULL || table == NULL || set == NULL || !name_fits(table) || !name_fits(set)) return EINVAL;
    int rc = reserve(batch);
    if (rc != 0) return rc;
    if (seq != NULL) *seq = batch->next_seq;
    struct nlmsghdr *nlh = header(batch, NFT_MSG_DELSETELEM, family, 0);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
    commit(batch, nlh);
    return 0;
}

uint32_t kubenft_nl_batch_message_count(const kubenft_nl_batch *batch) { return batch == NULL ? 0 : batch->count; }

size_t kubenft_nl_batch_byte_count(const kubenft_nl_batch *batch) { return batch == NULL ? 0 : batch->length; }

int kubenft_nl_batch_message(const kubenft_nl_batch *batch, uint32_t index, uint16_t *type, uint16_t *flags,
                             uint32_t *seq) {
    if (batch == NULL || index >= batch->count) return EINVAL;
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)(batch->buffer + batch->offsets[index]);
    if (type != NULL) *type = nlh->nlmsg_type;
    if (flags != NULL) *flags = nlh->nlmsg_flags;
    if (seq != NULL) *seq = nlh->nlmsg_seq;
    return 0;
}

int kubenft_nl_batch_set_genid(kubenft_nl_batch *batch, uint32_t genid) {
    if (batch == NULL || batch->count == 0) return EINVAL;
    struct nlmsghdr *nlh = (struct nlmsghdr *)(batch->buffer + batch->offsets[0]);
    if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN) return EINVAL;
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(attr) == NFNL_BATCH_GENID && mnl_attr_get_payload_len(attr) == sizeof(uint32_t)) {
            uint32_t value = htonl(genid);
            memcpy(mnl_attr_get_payload(attr), &value, sizeof(value));
            return 0;
        }
    }
    return ENOENT;
}
