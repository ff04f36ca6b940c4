// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/smbdirect: one line per AF_SMBDIRECT socket of the reader's
 * network namespace, as /proc/net/tcp lists TCP's, for tools/smbdirect-ss.
 * Columns (header line first): inode, role, phase, local and remote
 * address, device, transport, send and receive credits, receives posted,
 * negotiated send/receive/fragmented sizes, unread and unsent bytes,
 * messages and payload bytes each way, violations, buffer bytes, bytes
 * registered, RDMA bytes written and read.
 */

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "af_smbdirect.h"

static LIST_HEAD(afsmbd_socks);
static DEFINE_SPINLOCK(afsmbd_socks_lock);

/**
 * afsmbd_diag_add() - list a new socket
 * @sk: socket just initialised
 */
void afsmbd_diag_add(struct sock *sk)
{
	spin_lock_bh(&afsmbd_socks_lock);
	list_add_tail(&afsmbd_sk(sk)->all, &afsmbd_socks);
	spin_unlock_bh(&afsmbd_socks_lock);
}

/**
 * afsmbd_diag_del() - unlist a socket being destructed
 * @sk: socket
 */
void afsmbd_diag_del(struct sock *sk)
{
	spin_lock_bh(&afsmbd_socks_lock);
	list_del_init(&afsmbd_sk(sk)->all);
	spin_unlock_bh(&afsmbd_socks_lock);
}

static const char *const afsmbd_phase[] = {
	"idle", "resolve-addr", "resolve-route", "connect", "accept",
	"negotiate", "connected", "failed", "draining",
};

static const char *const afsmbd_transport[] = { "-", "ib", "roce", "iwarp" };

static void *afsmbd_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&afsmbd_socks_lock)
{
	spin_lock_bh(&afsmbd_socks_lock);
	return seq_list_start_head(&afsmbd_socks, *pos);
}

static void *afsmbd_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	return seq_list_next(v, &afsmbd_socks, pos);
}

static void afsmbd_seq_stop(struct seq_file *seq, void *v)
	__releases(&afsmbd_socks_lock)
{
	spin_unlock_bh(&afsmbd_socks_lock);
}

static int afsmbd_seq_show(struct seq_file *seq, void *v)
{
	struct afsmbd_sock *ss;
	struct afsmbd_conn *c;
	struct sock *sk;
	const char *role;

	if (v == &afsmbd_socks) {
		seq_puts(seq,
			 "inode role phase local remote device transport send_credits recv_credits recv_posted send_size recv_size frag_size unread unsent tx_msgs rx_msgs tx_bytes rx_bytes violations buffer_bytes registered rdma_written rdma_read\n");
		return 0;
	}
	ss = list_entry(v, struct afsmbd_sock, all);
	sk = &ss->sk;
	if (!net_eq(sock_net(sk), seq_file_net(seq)))
		return 0;
	c = &ss->conn;
	/* sk_callback_lock (sock_i_ino) nests inside our list lock only. */
	seq_printf(seq, "%lu ", (unsigned long)sock_i_ino(sk));
	spin_lock(&c->lock);
	role = READ_ONCE(sk->sk_state) == TCP_LISTEN ? "listener" :
	       c->server ? "server" : "client";
	seq_printf(seq,
		   "%s %s %pISpc %pISpc %s %s %u %u %u %u %u %u %u %u %llu %llu %llu %llu %llu %zu %llu %llu %llu\n",
		   role, c->state < ARRAY_SIZE(afsmbd_phase) ?
		   afsmbd_phase[c->state] : "?",
		   &c->laddr, &c->raddr,
		   c->dev_name[0] ? c->dev_name : "-",
		   c->transport < ARRAY_SIZE(afsmbd_transport) ?
		   afsmbd_transport[c->transport] : "?",
		   c->send_credits, c->recv_credits, c->rx_posted,
		   c->params.max_send_size, c->params.max_recv_size,
		   c->params.max_fragmented_recv_size, c->rx_queued,
		   c->tx_pending_bytes + c->tx_inflight_bytes,
		   c->stats.tx_msgs, c->stats.rx_msgs, c->stats.tx_bytes,
		   c->stats.rx_bytes, c->stats.violations, c->buffer_bytes,
		   c->registered_bytes, c->stats.rdma_write_bytes,
		   c->stats.rdma_read_bytes);
	spin_unlock(&c->lock);
	return 0;
}

static const struct seq_operations afsmbd_seq_ops = {
	.start	= afsmbd_seq_start,
	.next	= afsmbd_seq_next,
	.stop	= afsmbd_seq_stop,
	.show	= afsmbd_seq_show,
};

static int __net_init afsmbd_net_init(struct net *net)
{
	if (!proc_create_net("smbdirect", 0444, net->proc_net, &afsmbd_seq_ops,
			     sizeof(struct seq_net_private)))
		return -ENOMEM;
	return 0;
}

static void __net_exit afsmbd_net_exit(struct net *net)
{
	remove_proc_entry("smbdirect", net->proc_net);
}

static struct pernet_operations afsmbd_net_ops = {
	.init = afsmbd_net_init,
	.exit = afsmbd_net_exit,
};

/**
 * afsmbd_diag_init() - create /proc/net/smbdirect in every namespace
 *
 * Return: 0 or a negative errno.
 */
int afsmbd_diag_init(void)
{
	return register_pernet_subsys(&afsmbd_net_ops);
}

/**
 * afsmbd_diag_exit() - remove it again
 */
void afsmbd_diag_exit(void)
{
	unregister_pernet_subsys(&afsmbd_net_ops);
}
