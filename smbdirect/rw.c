// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA read and write, the server role of RDMA offload: data moves between
 * a local buffer and the buffers a peer registered and described in an
 * SMB2 READ or WRITE (Buffer Descriptor V1, [MS-SMBD] 2.2.3.1), through
 * the kernel's rdma_rw API (which registers MRs itself where the device
 * needs them, e.g. iWARP RDMA READ sinks).  One operation per socket at a
 * time, under lock_sock; the descriptors are checked by the pure codec
 * first.  RC ordering makes a SEND posted after an RDMA WRITE arrive
 * after its data, so a response may follow at once.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <rdma/rw.h>
#include "af_smbdirect.h"
#include "compat.h"
#include "trace.h"

struct afsmbd_rw_op {
	struct ib_cqe cqe;
	struct completion done;
	int status;
};

static void afsmbd_rw_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct afsmbd_rw_op *op = container_of(wc->wr_cqe, struct afsmbd_rw_op,
					       cqe);

	op->status = wc->status;
	complete(&op->done);
}

/*
 * Move @len bytes of @pages (the first starting at @off) to or from the
 * peer's @bd[0..n).  lock_sock held.  Returns bytes moved or an errno.
 */
static ssize_t afsmbd_rw_pages(struct afsmbd_conn *conn, struct page **pages,
			       u32 off, u64 len,
			       const struct afsmbd_buffer_desc *bd, u32 n,
			       enum dma_data_direction dir)
{
	struct ib_send_wr *chain = NULL;
	struct rdma_rw_ctx *ctx;
	struct sg_table *sgt;
	struct afsmbd_rw_op op;
	u32 port = conn->port_num, i, inited = 0;
	u64 pos = 0, moved = 0;
	int err = 0;

	ctx = kcalloc(n, sizeof(*ctx), GFP_KERNEL);
	sgt = kcalloc(n, sizeof(*sgt), GFP_KERNEL);
	if (!ctx || !sgt) {
		err = -ENOMEM;
		goto out;
	}
	op.cqe.done = afsmbd_rw_done;
	init_completion(&op.done);
	/* One context per descriptor, each over its slice of the pages. */
	for (i = 0; i < n && pos < len; i++) {
		u64 seg = min_t(u64, bd[i].length, len - pos);
		u64 start = off + pos;

		u32 first = offset_in_page(start);
		unsigned int n = DIV_ROUND_UP(first + seg, PAGE_SIZE);

		err = sg_alloc_table_from_pages_segment(&sgt[i], pages +
							(start >> PAGE_SHIFT),
							n, first, seg,
							PAGE_SIZE, GFP_KERNEL);
		if (err)
			goto out;
		err = rdma_rw_ctx_init(&ctx[i], conn->qp, port, sgt[i].sgl,
				       sgt[i].orig_nents, 0, bd[i].offset,
				       bd[i].token, dir);
		if (err < 0) {
			sg_free_table(&sgt[i]);
			goto out;
		}
		inited++;
		pos += seg;
	}
	/* Chain back to front; only the last context signals. */
	for (i = inited; i-- > 0;)
		chain = rdma_rw_ctx_wrs(&ctx[i], conn->qp, port,
					i == inited - 1 ? &op.cqe : NULL,
					chain);
	err = afsmbd_post_send_chain(conn, chain);
	if (err)
		goto out;
	/*
	 * Not interruptible: the hardware owns the pages until the WRs
	 * complete.  A dead peer fails the QP (retries, keepalive), and
	 * teardown drains it, which completes this.
	 */
	wait_for_completion(&op.done);
	if (op.status != IB_WC_SUCCESS) {
		err = op.status == IB_WC_REM_ACCESS_ERR ||
		      op.status == IB_WC_REM_INV_REQ_ERR ? -EINVAL : -EIO;
		if (op.status != IB_WC_WR_FLUSH_ERR)
			pr_warn_ratelimited("RDMA %s failed: %s\n",
					    dir == DMA_TO_DEVICE ? "write" :
					    "read", ib_wc_status_msg(op.status));
		afsmbd_conn_fail(conn, -EIO);
		goto out;
	}
	moved = pos;
	spin_lock_bh(&conn->lock);
	if (dir == DMA_TO_DEVICE)
		conn->stats.rdma_write_bytes += moved;
	else
		conn->stats.rdma_read_bytes += moved;
	spin_unlock_bh(&conn->lock);
out:
	for (i = 0; i < inited; i++) {
		rdma_rw_ctx_destroy(&ctx[i], conn->qp, port, sgt[i].sgl,
				    sgt[i].orig_nents, dir);
		sg_free_table(&sgt[i]);
	}
	kfree(ctx);
	kfree(sgt);
	trace_afsmbd_rdma(afsmbd_conn_sk(conn), dir == DMA_TO_DEVICE ?
			  "write" : "read", err ? 0 : moved, n, err);
	return err ? err : moved;
}

/* Decode and check the peer's descriptors (wire format). */
static int afsmbd_rw_descs(struct afsmbd_conn *conn, const void *wire,
			   u32 n, struct afsmbd_buffer_desc *bd)
{
	int ret;

	if (!n)
		return -EINVAL;
	ret = afsmbd_decode_buffer_desc_list(wire, (size_t)n *
					     AFSMBD_BUFFER_DESC_LEN, bd,
					     SMBDIRECT_MAX_DESCS, NULL);
	if (ret < 0)
		return ret == -EBADMSG ? -EINVAL : ret;
	/* At most what we offered in the negotiate, for one request. */
	return afsmbd_check_buffer_descs(bd, n,
					 conn->params.max_read_write_size,
					 NULL);
}

/**
 * afsmbd_rw_user() - SMBDIRECT_RDMA_WRITE / SMBDIRECT_RDMA_READ
 * @sk: socket, lock_sock held
 * @r: the request; r->done is filled in
 * @wire: copy of the caller's r->nr_descs descriptors
 * @write: RDMA WRITE (local to peer) or READ (peer to local)
 *
 * Return: 0 or a negative errno.
 */
int afsmbd_rw_user(struct sock *sk, struct smbdirect_rdma *r, const void *wire,
		   bool write)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct afsmbd_buffer_desc bd[SMBDIRECT_MAX_DESCS];
	unsigned long npages;
	struct page **pages;
	ssize_t ret;
	long got;

	if (r->reserved || !r->len)
		return -EINVAL;
	if (READ_ONCE(conn->state) != AFSMBD_C_CONNECTED)
		return -ENOTCONN;
	ret = afsmbd_rw_descs(conn, wire, r->nr_descs, bd);
	if (ret)
		return ret;
	if (r->addr + r->len < r->addr)
		return -EFAULT;
	if (r->len > conn->params.max_read_write_size)
		r->len = conn->params.max_read_write_size;
	npages = ((r->addr + r->len - 1) >> PAGE_SHIFT) -
		 (r->addr >> PAGE_SHIFT) + 1;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* Held for this call only, as O_DIRECT would. */
	got = pin_user_pages_fast(r->addr & PAGE_MASK, npages,
				  write ? 0 : FOLL_WRITE, pages);
	if (got != npages) {
		ret = got < 0 ? got : -EFAULT;
		if (got > 0)
			unpin_user_pages(pages, got);
		goto out;
	}
	ret = afsmbd_rw_pages(conn, pages, offset_in_page(r->addr), r->len,
			      bd, r->nr_descs,
			      write ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	unpin_user_pages_dirty_lock(pages, npages, !write && ret > 0);
	if (ret >= 0) {
		r->done = ret;
		ret = 0;
	}
out:
	kvfree(pages);
	return ret;
}

/**
 * afsmbd_rdma_xfer() - RDMA-write to or read from a peer's buffers
 * @sock: an AF_SMBDIRECT socket, connected
 * @iter: ITER_BVEC or ITER_KVEC over the local buffer (only its first page
 *	may start at an offset, only its last end early); advanced by the
 *	bytes moved
 * @descs: the peer's descriptors in wire format, as in an SMB2 READ or
 *	WRITE request's channel info
 * @nr_descs: how many (1..SMBDIRECT_MAX_DESCS)
 * @write: true to write @iter's data into the peer's buffers (serving an
 *	SMB2 READ), false to read the peer's data into @iter (an SMB2 WRITE)
 *
 * Returns once the data has moved; a SEND of the response may follow at
 * once.
 *
 * Context: process, may sleep.
 * Return: bytes moved (the smaller of the iterator and the descriptors),
 * or a negative errno as for SMBDIRECT_RDMA_WRITE/READ.
 */
ssize_t afsmbd_rdma_xfer(struct socket *sock, struct iov_iter *iter,
			 const struct smbdirect_buffer_desc *descs,
			 u32 nr_descs, bool write)
{
	struct afsmbd_buffer_desc bd[SMBDIRECT_MAX_DESCS];
	struct sock *sk = afsmbd_sock_of(sock);
	struct afsmbd_conn *conn;
	unsigned long npages;
	struct page **pages;
	struct iov_iter it;
	ssize_t ret;
	u64 len;
	u32 off;

	if (!sk)
		return -ENOTSOCK;
	conn = &afsmbd_sk(sk)->conn;
	lock_sock(sk);
	ret = -ENOTCONN;
	if (READ_ONCE(conn->state) != AFSMBD_C_CONNECTED)
		goto out;
	ret = afsmbd_rw_descs(conn, descs, nr_descs, bd);
	if (ret)
		goto out;
	len = min_t(u64, iov_iter_count(iter),
		    conn->params.max_read_write_size);
	it = *iter;
	iov_iter_truncate(&it, len);
	ret = afsmbd_iter_pages(&it, &pages, &npages, &off);
	if (ret)
		goto out;
	ret = afsmbd_rw_pages(conn, pages, off, len, bd, nr_descs,
			      write ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	kvfree(pages);
	if (ret > 0)
		iov_iter_advance(iter, ret);
out:
	release_sock(sk);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(afsmbd_rdma_xfer, AFSMBD_NS);
