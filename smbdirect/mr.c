// SPDX-License-Identifier: GPL-2.0
/*
 * Memory registration, the client role of RDMA offload: the caller's pages
 * are pinned, charged to RLIMIT_MEMLOCK, and registered with fast-register
 * MRs from a per-connection pool, one MR per Buffer Descriptor V1
 * ([MS-SMBD] 2.2.3.1) the peer gets.  Deregistration posts LOCAL_INV
 * unless the peer already invalidated the tokens with Send-with-Invalidate
 * (seen as IB_WC_WITH_INVALIDATE on a receive).  Every registration dies
 * with the connection.
 *
 * Locking: registrations are created and destroyed under lock_sock; the
 * list is also under conn->lock, which the receive completion takes to
 * look up an invalidated rkey.  Teardown destroys them under lock_sock
 * after the QP is drained.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <rdma/mr_pool.h>
#include "af_smbdirect.h"
#include "compat.h"
#include "trace.h"

/* Registrations a socket may hold at once (AFSMBD_REG_MRS MRs behind). */
#define AFSMBD_MAX_REGS		16
/* Pages one fast-register MR maps, at most (rxe 512, siw 256). */
#define AFSMBD_MR_PAGES		256

struct afsmbd_reg {
	struct list_head list;		/* conn->regs or regs_dead, (L) */
	struct afsmbd_conn *conn;
	u64 handle;
	u32 access;			/* SMBDIRECT_ACCESS_* */
	u32 nr_mrs;
	struct ib_mr *mr[SMBDIRECT_MAX_DESCS];
	u32 nr_inval;			/* (L) tokens the peer invalidated */
	bool inval[SMBDIRECT_MAX_DESCS];	/* (L) */
	struct sg_table sgt;		/* one entry a page */
	/* Each MR's share of sgt, DMA-mapped on its own (see reg_build) */
	u32 nr_mapped;
	struct scatterlist *chunk[SMBDIRECT_MAX_DESCS];
	int nents[SMBDIRECT_MAX_DESCS];
	int mapped[SMBDIRECT_MAX_DESCS];	/* what ib_dma_map_sg made */
	struct page **pages;
	unsigned long npages;
	struct mm_struct *mm;		/* user pages: charged to this mm */
	u64 len;
	struct ib_cqe reg_cqe;		/* REG_MR (unsignaled: errors only) */
	struct ib_cqe inv_cqe;		/* LOCAL_INV */
	struct completion inv_done;
};

static enum dma_data_direction afsmbd_reg_dir(const struct afsmbd_reg *reg)
{
	/* The peer writes into our pages for an SMB2 READ. */
	return reg->access == SMBDIRECT_ACCESS_REMOTE_WRITE ?
	       DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/**
 * afsmbd_mr_pages() - pages one MR of this connection maps
 * @dev: the connection's device
 *
 * Return: the device's fast-registration depth, capped.
 */
u32 afsmbd_mr_pages(struct ib_device *dev)
{
	return min_t(u32, dev->attrs.max_fast_reg_page_list_len,
		     AFSMBD_MR_PAGES);
}

/* Only a failed REG_MR completes: the QP is in error, end the link. */
static void afsmbd_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct afsmbd_reg *reg = container_of(wc->wr_cqe, struct afsmbd_reg,
					      reg_cqe);

	if (wc->status == IB_WC_WR_FLUSH_ERR)
		return;
	pr_warn_ratelimited("memory registration failed: %s\n",
			    ib_wc_status_msg(wc->status));
	afsmbd_conn_fail(reg->conn, -EIO);
}

/*
 * A LOCAL_INV before the last of a chain: unsignaled, so it completes only
 * if it failed, and its registration may already be freed by then (the
 * waiter wakes on the last one): it names no registration.
 */
static void afsmbd_inv_mid_done(struct ib_cq *cq, struct ib_wc *wc)
{
	if (wc->status != IB_WC_WR_FLUSH_ERR)
		pr_warn_ratelimited("local invalidate failed: %s\n",
				    ib_wc_status_msg(wc->status));
}

static struct ib_cqe afsmbd_inv_mid_cqe = { .done = afsmbd_inv_mid_done };

/* LOCAL_INV done, or flushed: either way the peer cannot use the MRs. */
static void afsmbd_inv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct afsmbd_reg *reg = container_of(wc->wr_cqe, struct afsmbd_reg,
					      inv_cqe);

	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR)
		afsmbd_conn_fail(reg->conn, -EIO);
	complete(&reg->inv_done);
}

/* Pin and charge a user range; fills reg->pages/npages. */
static int afsmbd_reg_pin_user(struct afsmbd_reg *reg, u64 addr, u64 len)
{
	unsigned long first = addr >> PAGE_SHIFT;
	unsigned long last = (addr + len - 1) >> PAGE_SHIFT;
	unsigned int gup = FOLL_LONGTERM;
	long n;
	int err;

	reg->npages = last - first + 1;
	err = account_locked_vm(current->mm, reg->npages, true);
	if (err)
		return err;
	reg->pages = kvcalloc(reg->npages, sizeof(*reg->pages),
			      GFP_KERNEL_ACCOUNT);
	if (!reg->pages) {
		err = -ENOMEM;
		goto unaccount;
	}
	/* Only the access the operation needs: writable only for READ. */
	if (reg->access == SMBDIRECT_ACCESS_REMOTE_WRITE)
		gup |= FOLL_WRITE;
	n = pin_user_pages_fast(addr & PAGE_MASK, reg->npages, gup, reg->pages);
	if (n != reg->npages) {
		if (n > 0)
			unpin_user_pages(reg->pages, n);
		err = n < 0 ? n : -EFAULT;
		goto free;
	}
	reg->mm = current->mm;
	mmgrab(reg->mm);
	return 0;
free:
	kvfree(reg->pages);
	reg->pages = NULL;
unaccount:
	account_locked_vm(current->mm, reg->npages, false);
	return err;
}

static void afsmbd_reg_unpin(struct afsmbd_reg *reg)
{
	if (!reg->pages)
		return;
	if (reg->mm) {
		bool dirty = reg->access == SMBDIRECT_ACCESS_REMOTE_WRITE;

		unpin_user_pages_dirty_lock(reg->pages, reg->npages, dirty);
		/* Whoever ends it (another process, teardown's worker). */
		account_locked_vm(reg->mm, reg->npages, false);
		mmdrop(reg->mm);
		reg->mm = NULL;
	}
	kvfree(reg->pages);
	reg->pages = NULL;
}

/* Undo everything but the list membership.  Process context. */
static void afsmbd_reg_free(struct afsmbd_conn *conn, struct afsmbd_reg *reg)
{
	u32 i;

	for (i = 0; i < reg->nr_mapped; i++)
		ib_dma_unmap_sg(conn->pd->device, reg->chunk[i], reg->nents[i],
				afsmbd_reg_dir(reg));
	for (i = 0; i < reg->nr_mrs; i++)
		ib_mr_pool_put(conn->qp, &conn->reg_mrs, reg->mr[i]);
	sg_free_table(&reg->sgt);
	afsmbd_reg_unpin(reg);
	kfree(reg);
}

/* Post one chained REG_MR per MR; RC order puts them before our SENDs. */
static int afsmbd_reg_post(struct afsmbd_conn *conn, struct afsmbd_reg *reg)
{
	struct ib_reg_wr wr[SMBDIRECT_MAX_DESCS] = {};
	u32 i;
	int n;

	for (i = 0; i < reg->nr_mrs; i++) {
		struct ib_mr *mr = reg->mr[i];

		n = ib_map_mr_sg(mr, reg->chunk[i], reg->mapped[i], NULL,
				 PAGE_SIZE);
		if (n != reg->mapped[i])
			return n < 0 ? n : -EINVAL;
		ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
		wr[i].wr.opcode = IB_WR_REG_MR;
		wr[i].wr.wr_cqe = &reg->reg_cqe;
		wr[i].wr.next = i + 1 < reg->nr_mrs ? &wr[i + 1].wr : NULL;
		wr[i].mr = mr;
		wr[i].key = mr->rkey;
		wr[i].access = reg->access == SMBDIRECT_ACCESS_REMOTE_WRITE ?
			       IB_ACCESS_REMOTE_WRITE | IB_ACCESS_LOCAL_WRITE :
			       IB_ACCESS_REMOTE_READ;
	}
	return afsmbd_post_send_chain(conn, &wr[0].wr);
}

/*
 * Register the pages in reg->pages (first page at @off) for @len bytes.
 * lock_sock held, connection connected.  On error the caller frees @reg:
 * nr_mapped and nr_mrs count only what was really mapped and taken.
 */
static int afsmbd_reg_build(struct afsmbd_conn *conn, struct afsmbd_reg *reg,
			    u32 off, u32 max_descs)
{
	struct ib_device *dev = conn->pd->device;
	u32 per = afsmbd_mr_pages(dev), need, i;
	struct scatterlist *sg;
	int err, k;

	need = DIV_ROUND_UP(reg->npages, per);
	if (need > min_t(u32, max_descs, SMBDIRECT_MAX_DESCS))
		return -EMSGSIZE;
	/* One entry a page: every MR but the last ends on a page boundary. */
	err = sg_alloc_table_from_pages_segment(&reg->sgt, reg->pages,
						reg->npages, off, reg->len,
						PAGE_SIZE, GFP_KERNEL);
	if (err)
		return err;
	if (reg->sgt.orig_nents != reg->npages)
		return -EINVAL;
	/*
	 * Each MR's pages are mapped on their own: an IOMMU may merge the
	 * segments it maps, into fewer and longer ones, but then never
	 * across two MRs, and one MR's share always fits its page list.
	 */
	sg = reg->sgt.sgl;
	for (i = 0; i < need; i++) {
		reg->chunk[i] = sg;
		reg->nents[i] = min_t(unsigned long, per,
				      reg->npages - (unsigned long)i * per);
		reg->mapped[i] = ib_dma_map_sg(dev, sg, reg->nents[i],
					       afsmbd_reg_dir(reg));
		if (!reg->mapped[i])
			return -ENOMEM;
		reg->nr_mapped = i + 1;
		for (k = 0; k < reg->nents[i]; k++)
			sg = sg_next(sg);
	}
	if (!conn->reg_pool) {
		err = ib_mr_pool_init(conn->qp, &conn->reg_mrs, AFSMBD_REG_MRS,
				      IB_MR_TYPE_MEM_REG, per, 0);
		if (err)
			return err;
		conn->reg_pool = true;
	}
	for (i = 0; i < need; i++) {
		reg->mr[i] = ib_mr_pool_get(conn->qp, &conn->reg_mrs);
		if (!reg->mr[i])
			return -ENOBUFS;
		reg->nr_mrs = i + 1;
	}
	return afsmbd_reg_post(conn, reg);
}

/*
 * Common registration: @reg has pages, npages, len and access set.  On
 * success the registration is listed and its descriptors written to @bd.
 */
static int afsmbd_reg_add(struct afsmbd_conn *conn, struct afsmbd_reg *reg,
			  u32 off, struct afsmbd_buffer_desc *bd,
			  u32 max_descs, u32 *nr)
{
	u32 i;
	int err;

	reg->conn = conn;
	reg->reg_cqe.done = afsmbd_reg_done;
	reg->inv_cqe.done = afsmbd_inv_done;
	init_completion(&reg->inv_done);
	err = afsmbd_reg_build(conn, reg, off, max_descs);
	if (err)
		return err;
	for (i = 0; i < reg->nr_mrs; i++) {
		bd[i].offset = reg->mr[i]->iova;
		bd[i].token = reg->mr[i]->rkey;
		bd[i].length = reg->mr[i]->length;
	}
	*nr = reg->nr_mrs;
	spin_lock_bh(&conn->lock);
	reg->handle = ++conn->reg_seq;
	list_add_tail(&reg->list, &conn->regs);
	conn->nr_regs++;
	conn->registered_bytes += reg->len;
	spin_unlock_bh(&conn->lock);
	return 0;
}

/* Checks shared by both kinds of caller.  lock_sock held. */
static int afsmbd_reg_check(struct afsmbd_conn *conn, u32 access, u64 len)
{
	if (access != SMBDIRECT_ACCESS_REMOTE_WRITE &&
	    access != SMBDIRECT_ACCESS_REMOTE_READ)
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (READ_ONCE(conn->state) != AFSMBD_C_CONNECTED)
		return -ENOTCONN;
	/* What both ends agreed either may move in one go. */
	if (len > conn->params.max_read_write_size)
		return -EMSGSIZE;
	if (READ_ONCE(conn->nr_regs) >= AFSMBD_MAX_REGS)
		return -ENOBUFS;
	return 0;
}

/**
 * afsmbd_mr_register_user() - SMBDIRECT_REGISTER
 * @sk: socket, lock_sock held
 * @r: the request; handle and nr_descs are filled in
 * @bd: room for r->max_descs descriptors (host order)
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int afsmbd_mr_register_user(struct sock *sk, struct smbdirect_register *r,
			    struct afsmbd_buffer_desc *bd)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct afsmbd_reg *reg;
	int err;

	if (r->reserved)
		return -EINVAL;
	err = afsmbd_reg_check(conn, r->access, r->len);
	if (err)
		return err;
	if (r->addr + r->len < r->addr)
		return -EFAULT;
	reg = kzalloc(sizeof(*reg), GFP_KERNEL_ACCOUNT);
	if (!reg)
		return -ENOMEM;
	reg->access = r->access;
	reg->len = r->len;
	err = afsmbd_reg_pin_user(reg, r->addr, r->len);
	if (!err)
		err = afsmbd_reg_add(conn, reg, offset_in_page(r->addr), bd,
				     r->max_descs, &r->nr_descs);
	trace_afsmbd_rdma(sk, "register", r->len, r->nr_descs, err);
	if (err) {
		afsmbd_reg_free(conn, reg);
		return err;
	}
	r->handle = reg->handle;
	return 0;
}

/*
 * Pages of a kernel iov_iter (bvec or kvec), as an in-kernel consumer
 * hands them: only the first may start inside a page and only the last
 * may end inside one, which is what fast registration maps.
 */
int afsmbd_iter_pages(struct iov_iter *iter, struct page ***pages,
		      unsigned long *npages, u32 *first_off)
{
	size_t len = iov_iter_count(iter), off;
	unsigned long n = 0, max;
	struct page **p;

	if (!len || (!iov_iter_is_bvec(iter) && !iov_iter_is_kvec(iter)))
		return -EINVAL;
	max = DIV_ROUND_UP(len, PAGE_SIZE) + 2;
	p = kvcalloc(max, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	*first_off = 0;
	while (iov_iter_count(iter)) {
		size_t seg;
		struct page *pg;
		const void *va = NULL;

		if (iov_iter_is_bvec(iter)) {
			const struct bio_vec *bv = iter->bvec;

			off = bv->bv_offset + iter->iov_offset;
			pg = bv->bv_page + off / PAGE_SIZE;
			off %= PAGE_SIZE;
			seg = min_t(size_t, bv->bv_len - iter->iov_offset,
				    PAGE_SIZE - off);
		} else {
			va = (const u8 *)iter->kvec->iov_base +
			     iter->iov_offset;
			off = offset_in_page(va);
			pg = is_vmalloc_addr(va) ? vmalloc_to_page(va) :
						   virt_to_page(va);
			seg = min_t(size_t, iter->kvec->iov_len -
				    iter->iov_offset, PAGE_SIZE - off);
		}
		seg = min(seg, iov_iter_count(iter));
		/* A gap in the middle cannot be fast-registered. */
		if ((n && off) ||
		    (iov_iter_count(iter) > seg && off + seg != PAGE_SIZE) ||
		    n == max) {
			kvfree(p);
			return -EINVAL;
		}
		if (!n)
			*first_off = off;
		p[n++] = pg;
		iov_iter_advance(iter, seg);
	}
	*pages = p;
	*npages = n;
	return 0;
}

/**
 * afsmbd_register_iter() - register kernel memory for the peer
 * @sock: an AF_SMBDIRECT socket, connected
 * @iter: ITER_BVEC or ITER_KVEC over the buffer; only its first page may
 *	start at an offset and only its last may end early.  The memory
 *	must stay put until afsmbd_deregister().  @iter is advanced.
 * @access: SMBDIRECT_ACCESS_REMOTE_WRITE (the peer writes: SMB2 READ) or
 *	SMBDIRECT_ACCESS_REMOTE_READ (the peer reads: SMB2 WRITE)
 * @descs: room for @max_descs descriptors in wire format
 * @max_descs: at most SMBDIRECT_MAX_DESCS are used
 * @nr_descs: descriptors written
 * @handle: the registration, for afsmbd_deregister()
 *
 * Context: process, may sleep.
 * Return: 0 or a negative errno, as for SMBDIRECT_REGISTER.
 */
int afsmbd_register_iter(struct socket *sock, struct iov_iter *iter,
			 u32 access, struct smbdirect_buffer_desc *descs,
			 u32 max_descs, u32 *nr_descs, u64 *handle)
{
	struct afsmbd_buffer_desc bd[SMBDIRECT_MAX_DESCS];
	struct sock *sk = afsmbd_sock_of(sock);
	struct afsmbd_conn *conn;
	struct afsmbd_reg *reg;
	u32 off, i, nr = 0;
	int err;

	if (!sk)
		return -ENOTSOCK;
	conn = &afsmbd_sk(sk)->conn;
	lock_sock(sk);
	err = afsmbd_reg_check(conn, access, iov_iter_count(iter));
	if (err)
		goto out;
	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	err = -ENOMEM;
	if (!reg)
		goto out;
	reg->access = access;
	reg->len = iov_iter_count(iter);
	err = afsmbd_iter_pages(iter, &reg->pages, &reg->npages, &off);
	if (!err)
		err = afsmbd_reg_add(conn, reg, off, bd, max_descs, &nr);
	if (err) {
		afsmbd_reg_free(conn, reg);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		descs[i].offset = cpu_to_le64(bd[i].offset);
		descs[i].token = cpu_to_le32(bd[i].token);
		descs[i].length = cpu_to_le32(bd[i].length);
	}
	*nr_descs = nr;
	*handle = reg->handle;
out:
	release_sock(sk);
	return err;
}
EXPORT_SYMBOL_NS_GPL(afsmbd_register_iter, AFSMBD_NS);

/*
 * Post LOCAL_INV for every token the peer did not invalidate and wait.
 * Return: false if the connection is down; the registration must then
 * wait for teardown, which drains the completions that may name it.
 */
static bool afsmbd_reg_invalidate(struct afsmbd_conn *conn,
				  struct afsmbd_reg *reg)
{
	struct ib_send_wr wr[SMBDIRECT_MAX_DESCS] = {}, *first = NULL, *last;
	struct ib_send_wr **link = &first;
	int err;
	u32 i;

	for (i = 0; i < reg->nr_mrs; i++) {
		if (reg->inval[i])
			continue;
		wr[i].opcode = IB_WR_LOCAL_INV;
		wr[i].ex.invalidate_rkey = reg->mr[i]->rkey;
		wr[i].wr_cqe = &afsmbd_inv_mid_cqe;
		*link = &wr[i];
		link = &wr[i].next;
	}
	if (!first)
		return true;
	/*
	 * Only the last is signaled and wakes us: RC completes them in
	 * order, and a failed one before it completes first.
	 */
	last = container_of(link, struct ib_send_wr, next);
	last->send_flags = IB_SEND_SIGNALED;
	last->wr_cqe = &reg->inv_cqe;
	reinit_completion(&reg->inv_done);
	err = afsmbd_post_send_chain(conn, first);
	if (err)
		return false;
	wait_for_completion(&reg->inv_done);
	return true;
}

/* Take a registration off the list.  Returns NULL if unknown. */
static struct afsmbd_reg *afsmbd_reg_take(struct afsmbd_conn *conn,
					  u64 handle)
{
	struct afsmbd_reg *reg, *found = NULL;

	spin_lock_bh(&conn->lock);
	list_for_each_entry(reg, &conn->regs, list) {
		if (reg->handle == handle) {
			list_del_init(&reg->list);
			conn->nr_regs--;
			conn->registered_bytes -= reg->len;
			found = reg;
			break;
		}
	}
	spin_unlock_bh(&conn->lock);
	return found;
}

/**
 * afsmbd_mr_deregister() - SMBDIRECT_DEREGISTER
 * @sk: socket, lock_sock held
 * @handle: from the registration
 *
 * Return: 0, or -ENOENT for an unknown (or already deregistered) handle.
 */
int afsmbd_mr_deregister(struct sock *sk, u64 handle)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct afsmbd_reg *reg = afsmbd_reg_take(conn, handle);

	if (!reg)
		return -ENOENT;
	trace_afsmbd_rdma(sk, "deregister", reg->len, reg->nr_mrs,
			  reg->nr_inval);
	if (afsmbd_reg_invalidate(conn, reg)) {
		afsmbd_reg_free(conn, reg);
	} else {
		spin_lock_bh(&conn->lock);
		list_add_tail(&reg->list, &conn->regs_dead);
		spin_unlock_bh(&conn->lock);
	}
	return 0;
}

/**
 * afsmbd_deregister() - end a registration made by afsmbd_register_iter()
 * @sock: the socket it was made on
 * @handle: its handle
 *
 * Context: process, may sleep (waits for the local invalidation).
 * Return: 0, -ENOENT for an unknown handle, -ENOTSOCK.
 */
int afsmbd_deregister(struct socket *sock, u64 handle)
{
	struct sock *sk = afsmbd_sock_of(sock);
	int err;

	if (!sk)
		return -ENOTSOCK;
	lock_sock(sk);
	err = afsmbd_mr_deregister(sk, handle);
	release_sock(sk);
	return err;
}
EXPORT_SYMBOL_NS_GPL(afsmbd_deregister, AFSMBD_NS);

/**
 * afsmbd_mr_remote_inv() - the peer invalidated @rkey; conn->lock held
 * @conn: connection
 * @rkey: from IB_WC_WITH_INVALIDATE
 *
 * Return: the registration's handle, or 0 if @rkey is none of ours (the
 * caller counts a violation).
 */
u64 afsmbd_mr_remote_inv(struct afsmbd_conn *conn, u32 rkey)
{
	struct afsmbd_reg *reg;
	u32 i;

	lockdep_assert_held(&conn->lock);
	list_for_each_entry(reg, &conn->regs, list) {
		for (i = 0; i < reg->nr_mrs; i++) {
			if (reg->mr[i]->rkey != rkey || reg->inval[i])
				continue;
			reg->inval[i] = true;
			reg->nr_inval++;
			conn->remote_invalidations++;
			trace_afsmbd_rdma(afsmbd_conn_sk(conn), "invalidated",
					  reg->len, i, 0);
			return reg->handle;
		}
	}
	return 0;
}

/**
 * afsmbd_mr_teardown() - every registration dies with the connection
 * @conn: connection whose QP is drained, lock_sock held
 */
void afsmbd_mr_teardown(struct afsmbd_conn *conn)
{
	struct afsmbd_reg *reg, *tmp;
	LIST_HEAD(all);

	spin_lock_bh(&conn->lock);
	list_splice_init(&conn->regs, &all);
	list_splice_init(&conn->regs_dead, &all);
	conn->nr_regs = 0;
	conn->registered_bytes = 0;
	spin_unlock_bh(&conn->lock);
	list_for_each_entry_safe(reg, tmp, &all, list)
		afsmbd_reg_free(conn, reg);
	if (conn->reg_pool) {
		ib_mr_pool_destroy(conn->qp, &conn->reg_mrs);
		conn->reg_pool = false;
	}
}
