#ifndef KUBENFT_CNFTNL_SHIM_H
#define KUBENFT_CNFTNL_SHIM_H
/* libnftnl's object API and the kernel's nf_tables constants, for building and reading
 * nftables objects from Swift. Sockets and batches go through the CNftnlShim target. */
#include <stdint.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <libnftnl/object.h>
#endif
