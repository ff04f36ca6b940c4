// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer pools and the memory they pin.  A connection's receive ring and
 * send pool are carved from page chunks, one DMA mapping per chunk and
 * little slack per buffer.  Everything is charged twice: to the socket's
 * memory cgroup (__GFP_ACCOUNT, with the socket's cgroup made active since
 * the CM and setup workers allocate on its behalf), and to max_memory, the
 * bound for all sockets together.  What one unprivileged socket may ask
 * for is bounded by max_socket_memory.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/dma-mapping.h>
#include "af_smbdirect.h"
#include "compat.h"

unsigned long afsmbd_max_socket_memory = 8UL << 20;
module_param_named(max_socket_memory, afsmbd_max_socket_memory, ulong, 0644);
MODULE_PARM_DESC(max_socket_memory,
		 "buffer bytes one socket may pin without CAP_NET_ADMIN (8 MiB)");

static unsigned long max_memory;
module_param(max_memory, ulong, 0644);
MODULE_PARM_DESC(max_memory,
		 "buffer bytes all sockets may pin together (0 at load: a quarter of RAM)");

static atomic_long_t afsmbd_pinned = ATOMIC_LONG_INIT(0);

/* Chunks of at least 16 KiB keep the slack of 1364-byte buffers near 4%. */
#define AFSMBD_CHUNK_MIN	(16U << 10)

/**
 * afsmbd_ring_init() - settle max_memory at module load
 *
 * Return: 0.
 */
int afsmbd_ring_init(void)
{
	if (!max_memory)
		max_memory = (totalram_pages() << PAGE_SHIFT) / 4;
	return 0;
}

/* Apart by a cache writeback granule: DMA in one must not clobber another. */
static u32 afsmbd_stride(u32 size)
{
	return ALIGN(size, max_t(u32, L1_CACHE_BYTES,
				 dma_get_cache_alignment()));
}

/**
 * afsmbd_limits_memory() - buffer bytes a set of limits lets a socket pin
 * @l: local limits
 *
 * The receive ring plus the send pool, as afsmbd_xfer_alloc() sizes them
 * at most (the negotiate can only shrink the sizes).
 *
 * Return: bytes.
 */
size_t afsmbd_limits_memory(const struct afsmbd_limits *l)
{
	u32 ntx = afsmbd_tx_pool(l);

	/* Buffers, their descriptors, and the copies out of the ring. */
	return (size_t)l->recv_credit_max *
	       (afsmbd_stride(l->max_recv_size) + sizeof(struct afsmbd_rx)) +
	       (size_t)ntx *
	       (afsmbd_stride(l->max_send_size) + sizeof(struct afsmbd_tx)) +
	       (size_t)AFSMBD_COPY_MAX * l->max_recv_size;
}

/**
 * afsmbd_mem_charge() - count buffer memory against max_memory
 * @conn: connection it is pinned for (its buffer_bytes grows)
 * @bytes: amount
 *
 * Return: 0, or -ENOBUFS if all sockets together would pass max_memory.
 */
int afsmbd_mem_charge(struct afsmbd_conn *conn, size_t bytes)
{
	if (atomic_long_add_return(bytes, &afsmbd_pinned) >
	    READ_ONCE(max_memory)) {
		atomic_long_sub(bytes, &afsmbd_pinned);
		return -ENOBUFS;
	}
	spin_lock_bh(&conn->lock);
	conn->buffer_bytes += bytes;
	spin_unlock_bh(&conn->lock);
	return 0;
}

/**
 * afsmbd_mem_uncharge() - undo afsmbd_mem_charge(); conn->lock not held
 * @conn: connection
 * @bytes: amount
 */
void afsmbd_mem_uncharge(struct afsmbd_conn *conn, size_t bytes)
{
	atomic_long_sub(bytes, &afsmbd_pinned);
	spin_lock_bh(&conn->lock);
	conn->buffer_bytes -= bytes;
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_memcg() - the memory cgroup to charge for a connection
 * @conn: connection
 *
 * The socket's own, or for a child not yet accepted its listener's (the
 * child was created by a CM worker).
 *
 * Return: a cgroup, or NULL for the current task's.
 */
struct mem_cgroup *afsmbd_memcg(struct afsmbd_conn *conn)
{
	struct mem_cgroup *memcg = afsmbd_sk_memcg(afsmbd_conn_sk(conn));

	if (!memcg && conn->parent)
		memcg = afsmbd_sk_memcg(conn->parent);
	return memcg;
}

/**
 * afsmbd_bufs_alloc() - allocate, charge and DMA-map a pool of buffers
 * @conn: connection charged for the memory
 * @b: empty pool
 * @dev: device to map for
 * @count: buffers
 * @size: bytes in each
 * @dir: DMA direction
 *
 * May sleep.  On failure the pool is left empty and nothing is charged.
 *
 * Return: 0, -ENOBUFS past max_memory, or -ENOMEM.
 */
int afsmbd_bufs_alloc(struct afsmbd_conn *conn, struct afsmbd_bufs *b,
		      struct ib_device *dev, u32 count, u32 size,
		      enum dma_data_direction dir)
{
	struct mem_cgroup *old;
	size_t chunk_bytes;
	int err = -ENOMEM;
	u32 i;

	memset(b, 0, sizeof(*b));
	b->dev = dev;
	b->dir = dir;
	b->count = count;
	b->size = size;
	b->stride = afsmbd_stride(size);
	chunk_bytes = max_t(size_t, b->stride,
			    min_t(size_t, (size_t)count * b->stride,
				  AFSMBD_CHUNK_MIN));
	b->order = get_order(chunk_bytes);
	b->per_chunk = (PAGE_SIZE << b->order) / b->stride;
	b->nr_chunks = DIV_ROUND_UP(count, b->per_chunk);
	b->charged = (size_t)b->nr_chunks << (PAGE_SHIFT + b->order);

	if (afsmbd_mem_charge(conn, b->charged)) {
		b->charged = 0;
		return -ENOBUFS;
	}
	old = set_active_memcg(afsmbd_memcg(conn));
	b->chunk = kcalloc(b->nr_chunks, sizeof(*b->chunk), GFP_KERNEL_ACCOUNT);
	b->chunk_dma = kcalloc(b->nr_chunks, sizeof(*b->chunk_dma),
			       GFP_KERNEL_ACCOUNT);
	if (!b->chunk || !b->chunk_dma)
		goto out;
	for (i = 0; i < b->nr_chunks; i++) {
		struct page *pg;

		/*
		 * A cgroup at its memory.max fails the connection (ENOMEM)
		 * rather than OOM-killing one of its tasks.
		 */
		pg = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
				 __GFP_RETRY_MAYFAIL, b->order);
		if (!pg)
			goto out;
		b->chunk[i] = page_address(pg);
	}
	for (i = 0; i < b->nr_chunks; i++) {
		u64 dma = ib_dma_map_single(dev, b->chunk[i],
					    PAGE_SIZE << b->order, dir);

		if (ib_dma_mapping_error(dev, dma)) {
			while (i--)
				ib_dma_unmap_single(dev, b->chunk_dma[i],
						    PAGE_SIZE << b->order, dir);
			goto out;
		}
		b->chunk_dma[i] = dma;
	}
	b->mapped = true;
	err = 0;
out:
	set_active_memcg(old);
	if (err)
		afsmbd_bufs_free(conn, b);
	return err;
}

/**
 * afsmbd_bufs_get() - address and DMA address of one buffer
 * @b: allocated pool
 * @i: buffer index, below @b->count
 * @dma: its DMA address
 *
 * Return: the buffer.
 */
void *afsmbd_bufs_get(const struct afsmbd_bufs *b, u32 i, u64 *dma)
{
	u32 c = i / b->per_chunk, off = (i % b->per_chunk) * b->stride;

	*dma = b->chunk_dma[c] + off;
	return (u8 *)b->chunk[c] + off;
}

/**
 * afsmbd_bufs_unmap() - undo the DMA mappings (no WR may use them again)
 * @b: pool, allocated or empty
 */
void afsmbd_bufs_unmap(struct afsmbd_bufs *b)
{
	u32 i;

	if (!b->mapped)
		return;
	for (i = 0; i < b->nr_chunks; i++)
		ib_dma_unmap_single(b->dev, b->chunk_dma[i],
				    PAGE_SIZE << b->order, b->dir);
	b->mapped = false;
}

/**
 * afsmbd_bufs_free() - unmap if needed, free and uncharge a pool
 * @conn: connection the pool was charged to
 * @b: pool, allocated or empty; left empty
 */
void afsmbd_bufs_free(struct afsmbd_conn *conn, struct afsmbd_bufs *b)
{
	u32 i;

	afsmbd_bufs_unmap(b);
	for (i = 0; b->chunk && i < b->nr_chunks; i++)
		if (b->chunk[i])
			free_pages((unsigned long)b->chunk[i], b->order);
	kfree(b->chunk);
	kfree(b->chunk_dma);
	if (b->charged)
		afsmbd_mem_uncharge(conn, b->charged);
	memset(b, 0, sizeof(*b));
}
