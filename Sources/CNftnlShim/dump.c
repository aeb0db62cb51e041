#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include "internal.h"

struct dump_target {
    const char *table;
    void *list;
    int error;
};

static struct nlmsghdr *dump_request(kubenft_nl_socket *sock, char *buffer, uint16_t type, uint16_t family,
                                     const char *table) {
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buffer, type, family, NLM_F_DUMP, sock->next_seq++);
    /* NFTA_CHAIN_TABLE, NFTA_SET_TABLE and NFTA_RULE_TABLE share attribute number 1. */
    if (table != NULL) mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
    return nlh;
}

static bool table_matches(const char *wanted, const char *name) {
    return wanted == NULL || (name != NULL && strcmp(wanted, name) == 0);
}

static int table_cb(const struct nlmsghdr *nlh, void *data) {
    struct dump_target *target = data;
    struct nftnl_table *table = nftnl_table_alloc();
    if (table == NULL) return MNL_CB_ERROR;
    if (nftnl_table_nlmsg_parse(nlh, table) < 0) {
        nftnl_table_free(table);
        return MNL_CB_ERROR;
    }
    nftnl_table_list_add_tail(table, target->list);
    return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data) {
    struct dump_target *target = data;
    struct nftnl_chain *chain = nftnl_chain_alloc();
    if (chain == NULL) return MNL_CB_ERROR;
    if (nftnl_chain_nlmsg_parse(nlh, chain) < 0) {
        nftnl_chain_free(chain);
        return MNL_CB_ERROR;
    }
    if (!table_matches(target->table, nftnl_chain_get_str(chain, NFTNL_CHAIN_TABLE))) {
        nftnl_chain_free(chain);
        return MNL_CB_OK;
    }
    nftnl_chain_list_add_tail(chain, target->list);
    return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data) {
    struct dump_target *target = data;
    struct nftnl_set *set = nftnl_set_alloc();
    if (set == NULL) return MNL_CB_ERROR;
    if (nftnl_set_nlmsg_parse(nlh, set) < 0) {
        nftnl_set_free(set);
        return MNL_CB_ERROR;
    }
    if (!table_matches(target->table, nftnl_set_get_str(set, NFTNL_SET_TABLE))) {
        nftnl_set_free(set);
        return MNL_CB_OK;
    }
    nftnl_set_list_add_tail(set, target->list);
    return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data) {
    struct dump_target *target = data;
    struct nftnl_rule *rule = nftnl_rule_alloc();
    if (rule == NULL) return MNL_CB_ERROR;
    if (nftnl_rule_nlmsg_parse(nlh, rule) < 0) {
        nftnl_rule_free(rule);
        return MNL_CB_ERROR;
    }
    if (!table_matches(target->table, nftnl_rule_get_str(rule, NFTNL_RULE_TABLE))) {
        nftnl_rule_free(rule);
        return MNL_CB_OK;
    }
    nftnl_rule_list_add_tail(rule, target->list);
    return MNL_CB_OK;
}

static int run_dump(kubenft_nl_socket *sock, uint16_t type, uint16_t family, const char *table, mnl_cb_t cb,
                    struct dump_target *target) {
    char buffer[8192];
    struct nlmsghdr *nlh = dump_request(sock, buffer, type, family, table);
    return kubenft_nl_request(sock, nlh, cb, target);
}

struct nftnl_table_list *kubenft_nl_dump_tables(kubenft_nl_socket *sock, uint16_t family, int *error) {
    struct dump_target target = { .table = NULL, .list = nftnl_table_list_alloc() };
    if (target.list == NULL) { *error = ENOMEM; return NULL; }
    int rc = run_dump(sock, NFT_MSG_GETTABLE, family, NULL, table_cb, &target);
    if (rc != 0) {
        nftnl_table_list_free(target.list);
        *error = rc;
        return NULL;
    }
    return target.list;
}

struct nftnl_chain_list *kubenft_nl_dump_chains(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error) {
    struct dump_target target = { .table = table, .list = nftnl_chain_list_alloc() };
    if (target.list == NULL) { *error = ENOMEM; return NULL; }
    int rc = run_dump(sock, NFT_MSG_GETCHAIN, family, table, chain_cb, &target);
    if (rc != 0) {
        nftnl_chain_list_free(target.list);
        *error = rc;
        return NULL;
    }
    return target.list;
}

struct nftnl_set_list *kubenft_nl_dump_sets(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error) {
    struct dump_target target = { .table = table, .list = nftnl_set_list_alloc() };
    if (target.list == NULL) { *error = ENOMEM; return NULL; }
    int rc = run_dump(sock, NFT_MSG_GETSET, family, table, set_cb, &target);
    if (rc != 0) {
        nftnl_set_list_free(target.list);
        *error = rc;
        return NULL;
    }
    return target.list;
}

struct nftnl_rule_list *kubenft_nl_dump_rules(kubenft_nl_socket *sock, uint16_t family, const char *table, int *error) {
    struct dump_target target = { .table = table, .list = nftnl_rule_list_alloc() };
    if (target.list == NULL) { *error = ENOMEM; return NULL; }
    int rc = run_dump(sock, NFT_MSG_GETRULE, family, table, rule_cb, &target);
    if (rc != 0) {
        nftnl_rule_list_free(target.list);
        *error = rc;
        return NULL;
    }
    return target.list;
}

int kubenft_nl_dump_chain_rules(kubenft_nl_socket *sock, uint16_t family, const char *table, const char *chain,
                                struct nftnl_rule_list *into) {
    if (sock == NULL || table == NULL || chain == NULL || into == NULL) return EINVAL;
    char buffer[8192];
    struct nlmsghdr *nlh = dump_request(sock, buffer, NFT_MSG_GETRULE, family, table);
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
    struct dump_target target = { .table = table, .list = into };
    return kubenft_nl_request(sock, nlh, rule_cb, &target);
}

static int element_cb(const struct nlmsghdr *nlh, void *data) {
    struct nftnl_set *set = data;
    return nftnl_set_elems_nlmsg_parse(nlh, set) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int kubenft_nl_dump_elements(kubenft_nl_socket *sock, uint16_t family, struct nftnl_set *set) {
    if (sock == NULL || set == NULL) return EINVAL;
    const char *table = nftnl_set_get_str(set, NFTNL_SET_TABLE);
    const char *name = nftnl_set_get_str(set, NFTNL_SET_NAME);
    if (table == NULL || name == NULL) return EINVAL;
    char buffer[8192];
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, sock->next_seq++);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
    return kubenft_nl_request(sock, nlh, element_cb, set);
}

struct named_target {
    const char *table;
    bool typed;
    kubenft_nl_named *items;
    uint32_t count;
    uint32_t capacity;
};

/* NFTA_OBJ_TABLE / NFTA_FLOWTABLE_TABLE are attribute 1, NFTA_OBJ_NAME / NFTA_FLOWTABLE_NAME 2,
 * NFTA_OBJ_TYPE 3. */
static int named_cb(const struct nlmsghdr *nlh, void *data) {
    struct named_target *target = data;
    const char *table = NULL, *name = NULL;
    uint32_t type = 0;
    struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        uint16_t kind = mnl_attr_get_type(attr);
        if (kind == NFTA_OBJ_TABLE && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) table = mnl_attr_get_str(attr);
        else if (kind == NFTA_OBJ_NAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) name = mnl_attr_get_str(attr);
        else if (kind == NFTA_OBJ_TYPE && target->typed && mnl_attr_validate(attr, MNL_TYPE_U32) == 0) type = ntohl(mnl_attr_get_u32(attr));
    }
    if (name == NULL || !table_matches(target->table, table)) return MNL_CB_OK;
    if (target->count == target->capacity) {
        uint32_t capacity = target->capacity == 0 ? 16 : target->capacity * 2;
        kubenft_nl_named *grown = realloc(target->items, capacity * sizeof(*grown));
        if (grown == NULL) { errno = ENOMEM; return MNL_CB_ERROR; }
        target->items = grown;
        target->capacity = capacity;
    }
    kubenft_nl_named *slot = &target->items[target->count++];
    memset(slot, 0, sizeof(*slot));
    strncpy(slot->name, name, sizeof(slot->name) - 1);
    slot->type = type;
    return MNL_CB_OK;
}

int kubenft_nl_dump_named(kubenft_nl_socket *sock, uint16_t msg_type, uint16_t family, const char *table,
                          kubenft_nl_named **out, uint32_t *count) {
    if (sock == NULL || table == NULL || out == NULL || count == NULL) return EINVAL;
    if (msg_type != NFT_MSG_GETOBJ && msg_type != NFT_MSG_GETFLOWTABLE) return EINVAL;
    *out = NULL;
    *count = 0;
    struct named_target target = { .table = table, .typed = msg_type == NFT_MSG_GETOBJ };
    char buffer[8192];
    struct nlmsghdr *nlh = dump_request(sock, buffer, msg_type, family, table);
    /* NFT_OBJECT_UNSPEC: every type of stateful object. */
    if (target.typed) mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_UNSPEC));
    int rc = kubenft_nl_request(sock, nlh, named_cb, &target);
    if (rc != 0) {
        free(target.items);
        return rc;
    }
    *out = target.items;
    *count = target.count;
    return 0;
}
