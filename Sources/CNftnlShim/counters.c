#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include "internal.h"

/* Named counter objects: created and deleted in batches, read back in one dump per table. */

int kubenft_nl_batch_add_counter(kubenft_nl_batch *batch, uint16_t msg_type, uint16_t family, uint16_t flags,
                                 const char *table, const char *name, const void *userdata, uint32_t userdata_length,
                                 uint32_t *seq) {
    if (batch == NULL || table == NULL || name == NULL) return EINVAL;
    if (msg_type != NFT_MSG_NEWOBJ && msg_type != NFT_MSG_DELOBJ) return EINVAL;
    if (strnlen(table, 256) >= 256 || strnlen(name, 256) >= 256 || *name == '\0') return EINVAL;
    if (userdata_length > 256 || (userdata == NULL && userdata_length != 0)) return EINVAL;
    struct nftnl_obj *object = nftnl_obj_alloc();
    if (object == NULL) return ENOMEM;
    nftnl_obj_set_u32(object, NFTNL_OBJ_FAMILY, family);
    nftnl_obj_set_str(object, NFTNL_OBJ_TABLE, table);
    nftnl_obj_set_str(object, NFTNL_OBJ_NAME, name);
    nftnl_obj_set_u32(object, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    if (msg_type == NFT_MSG_NEWOBJ) {
        /* As nft declares a counter: both values given, zero. */
        nftnl_obj_set_u64(object, NFTNL_OBJ_CTR_BYTES, 0);
        nftnl_obj_set_u64(object, NFTNL_OBJ_CTR_PKTS, 0);
        if (userdata_length > 0) nftnl_obj_set_data(object, NFTNL_OBJ_USERDATA, userdata, userdata_length);
    }
    struct nlmsghdr *nlh = kubenft_nl_batch_open(batch, msg_type, family, flags, seq);
    if (nlh == NULL) {
        nftnl_obj_free(object);
        return ENOMEM;
    }
    nftnl_obj_nlmsg_build_payload(nlh, object);
    nftnl_obj_free(object);
    kubenft_nl_batch_close(batch, nlh);
    return 0;
}

struct counter_target {
    const char *table;
    kubenft_nl_counter *items;
    uint32_t count;
    uint32_t capacity;
};

static int counter_cb(const struct nlmsghdr *nlh, void *data) {
    struct counter_target *target = data;
    struct nftnl_obj *object = nftnl_obj_alloc();
    if (object == NULL) { errno = ENOMEM; return MNL_CB_ERROR; }
    if (nftnl_obj_nlmsg_parse(nlh, object) < 0) {
        nftnl_obj_free(object);
        return MNL_CB_ERROR;
    }
    const char *table = nftnl_obj_get_str(object, NFTNL_OBJ_TABLE);
    const char *name = nftnl_obj_get_str(object, NFTNL_OBJ_NAME);
    bool wanted = table != NULL && name != NULL && strcmp(table, target->table) == 0
        && nftnl_obj_get_u32(object, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER;
    if (!wanted) {
        nftnl_obj_free(object);
        return MNL_CB_OK;
    }
    if (target->count == target->capacity) {
        uint32_t capacity = target->capacity == 0 ? 64 : target->capacity * 2;
        kubenft_nl_counter *grown = realloc(target->items, capacity * sizeof(*grown));
        if (grown == NULL) {
            nftnl_obj_free(object);
            errno = ENOMEM;
            return MNL_CB_ERROR;
        }
        target->items = grown;
        target->capacity = capacity;
    }
    kubenft_nl_counter *slot = &target->items[target->count++];
    memset(slot, 0, sizeof(*slot));
    strncpy(slot->name, name, sizeof(slot->name) - 1);
    slot->packets = nftnl_obj_get_u64(object, NFTNL_OBJ_CTR_PKTS);
    slot->bytes = nftnl_obj_get_u64(object, NFTNL_OBJ_CTR_BYTES);
    uint32_t length = 0;
    const void *userdata = nftnl_obj_get_data(object, NFTNL_OBJ_USERDATA, &length);
    if (userdata != NULL && length <= sizeof(slot->userdata)) {
        memcpy(slot->userdata, userdata, length);
        slot->userdata_length = length;
    }
    nftnl_obj_free(object);
    return MNL_CB_OK;
}

int kubenft_nl_dump_counters(kubenft_nl_socket *sock, uint16_t family, const char *table, bool reset,
                             kubenft_nl_counter **out, uint32_t *count) {
    if (sock == NULL || table == NULL || out == NULL || count == NULL) return EINVAL;
    *out = NULL;
    *count = 0;
    struct counter_target target = { .table = table };
    char buffer[8192];
    uint16_t type = reset ? NFT_MSG_GETOBJ_RESET : NFT_MSG_GETOBJ;
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buffer, type, family, NLM_F_DUMP, sock->next_seq++);
    mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, table);
    mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
    int rc = kubenft_nl_request(sock, nlh, counter_cb, &target);
    if (rc != 0) {
        free(target.items);
        return rc;
    }
    *out = target.items;
    *count = target.count;
    return 0;
}
