/*
 * bio_internal.h: private to src/bio: fault-injection ids, the on-media formats of the WAL
 * (header block and record), and the WAL's in-memory state, shared by bio_wal.c (the
 * runtime: append, flush, poll, wait, trim) and bio_wal_open.c (create, open, replay,
 * close). The README holds the invariants and the record format in prose.
 */
#ifndef BIO_INTERNAL_H
#define BIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <liburing.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>

D_LOG_FAC_DECLARE(bio);

/* Fault-injection points of bio: ids 200..299 (gurt/fault_inject.h). */
#define BIO_FI_WAL_WRITE 200   /* a log write completes with -EIO */
#define BIO_FI_WAL_SYNC 201    /* the durability step fails (fdatasync, or a RWF_DSYNC write) */
#define BIO_FI_WAL_HDR 202     /* a header write completes with -EIO */
#define BIO_FI_WAL_READ 203    /* a read of open or replay fails */
#define BIO_FI_WAL_SUBMIT 204  /* io_uring_submit fails */
#define BIO_FI_DATA_WRITE 205  /* a data-file write completes with -EIO */
#define BIO_FI_DATA_SYNC 206   /* the data-file sync of a WAL flush fails */
#define BIO_FI_DATA_SUBMIT 207 /* io_uring_submit of data-file requests fails */
#define BIO_FI_DATA_READ 208   /* a data-file read completes with -EIO */
#define BIO_FI_DATA_SHORT 209  /* a data-file read of more than 4 KiB returns half (blocks) */
#define BIO_FI_WAL_CUT 210     /* a flush stops before its header write: as a kill there */
#define BIO_FI_DATA_SFR 211    /* the one-sync write-back (sync_file_range) of a flush fails */
#define BIO_FI_DATA_WB 220     /* a cached write's linked write-back start fails (-EBADF) */

#define WAL_BLK_SIZE 4096ULL
#define WAL_HDR_MAGIC 0x314c4157534f4144ULL /* "DAOSWAL1" little-endian */
#define WAL_REC_MAGIC 0x52574c44U           /* "DLWR" */
#define WAL_VERSION 1                       /* of the header */
/* Record versions: 1 (16-byte range headers, bytes padded to 8) is still replayed; appends
 * write 2 (varint range headers, bytes packed). */
#define WAL_REC_V1 1
#define WAL_REC_V2 2
/* Two header blocks (double-buffered), then the circular log area. */
#define WAL_AREA_OFF (2 * WAL_BLK_SIZE)
/* One record boundary is remembered per segment of the log, for bio_wal_trim. */
#define WAL_SEG_SHIFT 16
/* io_uring depth: a flush needs at most a data sync, 2 log writes, a header write and an
 * fsync. */
#define WAL_RING_DEPTH 16
/*
 * Pipelined group commit (DAOS_BIO_DSYNC): flushes in flight at most, by default and at
 * most; the ring holds WAL_PIPE_SQES requests for each (data sync or write-back, two log
 * writes, a header write).
 */
#define WAL_PIPE_DEFAULT 32
#define WAL_PIPE_MAX 64
#define WAL_PIPE_SQES 4
#define WAL_STAGING_MAX (1ULL << 30)
#define WAL_IOV_MAX 8

/*
 * The header, at the start of block 0 and block 1 (the rest of each block is zero). Writes
 * alternate between them (slot = hd_seq % 2); open takes the valid one with the higher
 * hd_seq, so a torn header write leaves the previous header in force.
 */
struct wal_hdr_df {
	uint64_t hd_magic;
	uint32_t hd_version;
	uint32_t hd_csum; /* CRC32C of this struct with hd_csum = 0 */
	uint64_t hd_wal_id;
	uint64_t hd_seq;
	uint64_t hd_file_size;
	uint64_t hd_area_off;
	uint64_t hd_area_size;
	uint32_t hd_blk_size;
	uint32_t hd_gen;        /* generation whose records are the newest */
	uint64_t hd_tail_lsn;   /* oldest live record */
	uint64_t hd_tail_pos;   /* its log position */
	uint64_t hd_replay_end; /* last LSN the replay that started hd_gen accepted */
	/* every record <= this was durable (log and data) before this header's flush was
	 * submitted: replay checks the data CRCs of records after it only (0 in older logs) */
	uint64_t hd_complete_lsn;
	uint64_t hd_flags; /* WAL_HDF_*; 0 in older logs */
	uint64_t hd_reserved[3];
};

/*
 * hd_flags: the writer of this header kept several flushes in flight (DAOS_BIO_DSYNC), so
 * a later flush may have reached the disk while an earlier one did not (wal_count_lost).
 */
#define WAL_HDF_PIPE (1ULL << 0)
D_CASSERT(sizeof(struct wal_hdr_df) == 128);
D_CASSERT(offsetof(struct wal_hdr_df, hd_tail_lsn) == 64);
D_CASSERT(offsetof(struct wal_hdr_df, hd_complete_lsn) == 88);

/*
 * A record: this header, then rd_len bytes of ranges, then zero padding to 8 bytes; the
 * record takes 40 + wal_pad8(rd_len) bytes of log and rd_csum is the CRC32C of all of
 * them (with rd_csum = 0). Version 2 (WAL_REC_V2) packs each of the rd_nr ranges as
 *
 *   varint zigzag(rg_off - end of the previous range, or 0 for the first; mod 2^64)
 *   varint (rg_len << 1) | zero
 *   rg_len bytes of after-image, unless zero (then the range is rg_len zero bytes)
 *
 * (varints: 7 bits a byte, low first, the high bit set on all but the last byte; at most
 * 10 bytes). A header takes at most 15 bytes, 2-4 for the ranges of a VOS update, which
 * are sorted and close together. Version 1 (WAL_REC_V1, still replayed) had a struct
 * wal_range_df for each range, its bytes padded to 8, and rd_len a multiple of 8.
 */
struct wal_rec_df {
	uint32_t rd_magic;
	uint16_t rd_version;
	uint16_t rd_flags; /* 0, or WAL_RF_DREF (version 2 only) */
	uint32_t rd_csum;
	uint32_t rd_gen;
	uint64_t rd_lsn;
	uint64_t rd_wal_id;
	uint32_t rd_nr;
	uint32_t rd_len;
};
D_CASSERT(sizeof(struct wal_rec_df) == 40);
D_CASSERT(offsetof(struct wal_rec_df, rd_lsn) == 16);

/*
 * rd_flags: the ranges are followed, inside rd_len, by the data-file extents the record
 * references (one-sync, bio_wal_dref_set): varint nd (>= 1), then nd x { varint off,
 * varint len, u32 CRC32C of the len bytes of the data file at off (little-endian) }.
 */
#define WAL_RF_DREF 1U
/* Data-file extents one record carries at most; bytes of one, encoded, at most. */
#define WAL_DREF_MAX 16U
#define WAL_DREF_SIZE 24U

/* A range header of a version 1 record. */
struct wal_range_df {
	uint64_t rg_off;
	uint32_t rg_len;
	uint32_t rg_flags; /* 0, or WAL_RG_ZERO */
};

/* rg_flags: the range is rg_len zero bytes; no payload follows its header. */
#define WAL_RG_ZERO 1U
D_CASSERT(sizeof(struct wal_range_df) == 16);
/* Bytes of a range header of a version 2 record, at most. */
#define WAL_RG_HDR_MAX 15U
/*
 * Zero runs of at least this many bytes (whole 8-byte words of the heap) are logged as
 * zero ranges: a new btree node or a zeroed allocation costs a few bytes of log. At 16, a
 * cut range never takes more log than bio_wal_rec_size() allows for it: each run saves
 * >= 16 bytes and costs < 16 (its header and that of the data after it, each a delta of
 * 0 in one byte and a length in at most 5).
 */
#define WAL_ZERO_MIN 16U

/* Bytes of the varint of @v. */
static inline uint32_t
wal_varint_size(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Write the varint of @v at @p; returns the byte after it. */
static inline unsigned char *
wal_varint_put(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/*
 * Read a varint from the @avail bytes at @p into *@v. Returns the bytes it took, or 0 if
 * it is cut short, longer than 10 bytes or above 2^64 - 1.
 */
static inline uint32_t
wal_varint_get(const unsigned char *p, uint64_t avail, uint64_t *v)
{
	uint64_t x = 0;
	uint32_t i;

	for (i = 0; i < 10 && i < avail; i++) {
		if (i == 9 && p[i] > 1)
			return 0;
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static inline uint64_t
wal_zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t
wal_unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

/* Requests of a flush, in io_uring user_data. */
enum wal_op {
	WAL_OP_LOG0 = 0, /* log write up to the end of the area */
	WAL_OP_LOG1 = 1, /* log write from the start of the area (a flush that wraps) */
	WAL_OP_HDR = 2,
	WAL_OP_FSYNC = 3,
	WAL_OP_DSYNC = 4, /* fdatasync of the dependent data file, before the log writes */
	WAL_OP_SFR = 5,   /* one-sync: write-back of the data file, before the log's fsync */
	WAL_OP_NR = 6,
};

/* io_uring user_data of a request: its flush's slot and its enum wal_op. */
#define WAL_UD(slot, op) ((uint64_t)(slot) << 8 | (op))
#define WAL_UD_SLOT(ud) ((uint32_t)((ud) >> 8))
#define WAL_UD_OP(ud) ((ud)&0xff)

/* A flush in flight (one at a time, or up to w_pipe pipelined). */
struct wal_flush {
	uint64_t wf_last_lsn; /* durable when it completes */
	uint64_t wf_end;      /* log position after its last record */
	uint64_t wf_tail_lsn; /* with a header write: the tail it makes durable */
	uint64_t wf_tail_pos;
	uint64_t wf_complete_lsn;         /* with a header write: its hd_complete_lsn */
	uint64_t wf_sub_ns;               /* submitted at (d_now_ns) */
	uint32_t wf_pending;              /* requests not completed yet */
	uint32_t wf_len[WAL_OP_NR];       /* bytes each write must complete */
	int wf_rc;                        /* first error */
	bool wf_hdr;                      /* carries a header write */
	bool wf_gen;                      /* its header introduces a generation */
	bool wf_busy;                     /* submitted, not retired yet */
	struct iovec wf_iov[WAL_IOV_MAX]; /* referenced by the kernel until completion */
};

/* A durability callback waiting for its LSN. */
struct wal_cb {
	uint64_t wc_lsn;
	bio_wal_durable_cb_t wc_func;
	void *wc_arg;
};

/* A record boundary: the first record that starts in a segment of the log. */
struct wal_bound {
	uint64_t wb_lsn;
	uint64_t wb_pos;
};

/* One piece of a record being appended: after-image bytes, or a run of zeros (data NULL). */
struct wal_piece {
	uint64_t pc_off;
	const char *pc_data;
	uint32_t pc_len;
};

/*
 * Log positions (w_*_pos, wf_end) count bytes since the log was formatted and never wrap;
 * position p lives at file offset WAL_AREA_OFF + p % area and at staging offset
 * p % staging size.
 */
struct bio_wal {
	int w_fd;  /* O_RDWR | O_DIRECT */
	int w_efd; /* eventfd registered with the ring */
	struct io_uring w_ring;
	bool w_ring_ok;
	bool w_replayed;
	bool w_in_flight;
	bool w_in_poll;
	bool w_hdr_dirty;   /* the header must be written with the next flush */
	bool w_gen_pending; /* the first append of this generation dirties the header */
	bool w_nolog;       /* index-only mode (bio_wal_set_nolog): appends log nothing */
	uint32_t w_sync;    /* enum bio_wal_sync_mode */
	int w_dep_fd;       /* data file the next flush with records syncs first, or -1 */
	/*
	 * One-sync (DAOS_BIO_ONE_SYNC, read at open): records may carry data-file extents
	 * with CRCs (WAL_RF_DREF) instead of a data sync; the next flush with records writes
	 * w_sfr_fd back (sync_file_range, no device flush) before the log's fsync
	 */
	bool w_one_sync;
	int w_sfr_fd;
	int w_dref_fd;      /* the data file of the pending extents; for replay's checks too */
	uint32_t w_dref_nr; /* pending extents: the next append carries them */
	struct bio_wal_dref w_drefs[WAL_DREF_MAX];
	uint64_t w_hdr_complete; /* hd_complete_lsn of the newest durable header */
	uint64_t w_dref_last;    /* newest record that carries extents (or may: replayed) */
	int w_err;               /* sticky -DER_IO once a flush failed */
	char *w_path;

	/* geometry (from the header) */
	uint64_t w_file_size;
	uint64_t w_area;
	uint64_t w_wal_id;
	uint64_t w_rec_max; /* largest record (header included) accepted */

	/* header state */
	struct wal_hdr_df w_hdr; /* last header read or written */
	uint64_t w_hdr_seq;      /* seq of the last header written (or read) */
	uint32_t w_gen;          /* generation of the records appended now */
	uint64_t w_replay_end;

	/* LSNs */
	uint64_t w_last_lsn;    /* last handed out */
	uint64_t w_sub_lsn;     /* last submitted */
	uint64_t w_durable_lsn; /* last durable */

	/* positions */
	uint64_t w_head_pos; /* next append */
	uint64_t w_sub_pos;  /* end of what was submitted */
	uint64_t w_dur_pos;  /* end of what is durable */
	uint64_t w_tail_lsn; /* durable tail (the header on disk says so) */
	uint64_t w_tail_pos;
	uint64_t w_ptail_lsn; /* pending tail: trimmed, header not yet durable */
	uint64_t w_ptail_pos;

	/* staging ring, the bounce block of the last partial block, the header block */
	char *w_stg;
	uint64_t w_stg_size;
	char *w_bounce;
	char *w_hdr_buf;
	size_t w_map_size;

	/*
	 * Flushes in flight, oldest first: a ring of w_pipe slots from w_fl_head (w_pipe is
	 * 1 unless pipelined). They retire in order: LSNs become durable as the contiguous
	 * prefix of completed flushes.
	 */
	struct wal_flush *w_fls;
	uint32_t w_pipe;
	uint32_t w_fl_head;
	uint32_t w_fl_nr;
	bool w_hdr_inflight; /* a flush in flight writes a header (one at a time) */
	bool w_gen_inflight; /* ... the header of a new generation: no records until durable */
	/*
	 * Test hook: while w_hold is set, completions of the oldest flush in flight are kept
	 * in w_held instead of processed, so that a later flush completes first.
	 */
	bool w_hold;
	struct {
		uint64_t h_ud;
		int h_res;
	} w_held[WAL_PIPE_SQES];
	uint32_t w_held_nr;

	/* durability callbacks, sorted by LSN: a ring of w_cb_cap entries */
	struct wal_cb *w_cbs;
	uint32_t w_cb_cap;
	uint32_t w_cb_head;
	uint32_t w_cb_nr;

	/* record boundaries of live records, oldest first: a ring of w_bnd_cap entries */
	struct wal_bound *w_bnds;
	uint64_t w_bnd_cap;
	uint64_t w_bnd_head;
	uint64_t w_bnd_nr;

	/* pieces of the record being appended (bio_wal_append): scratch, grown on demand */
	struct wal_piece *w_pcs;
	uint32_t w_pcs_cap;

	struct bio_wal_stats w_stats;
};

static inline uint64_t
wal_rnd_down(uint64_t v)
{
	return v & ~(WAL_BLK_SIZE - 1);
}

static inline uint64_t
wal_rnd_up(uint64_t v)
{
	return (v + WAL_BLK_SIZE - 1) & ~(WAL_BLK_SIZE - 1);
}

static inline uint64_t
wal_pad8(uint64_t v)
{
	return (v + 7) & ~7ULL;
}

/* File offset of log position @pos. */
static inline uint64_t
wal_pos2off(const struct bio_wal *wal, uint64_t pos)
{
	return WAL_AREA_OFF + pos % wal->w_area;
}

/**
 * CRC32C (Castagnoli, as iSCSI) of @len bytes at @buf (borrowed), continuing @crc (start
 * with 0): wal_crc(wal_crc(0, a), b) is the CRC of a and b one after the other.
 * Context: any thread.
 */
uint32_t wal_crc(uint32_t crc, const void *buf, size_t len);

/** Set the checksum of header @hd (borrowed). Context: any thread. */
void wal_hdr_csum_set(struct wal_hdr_df *hd);

/**
 * Is @hd (borrowed, read from disk) a valid header of a file of @file_size bytes (0: do not
 * compare)? Returns 0, -DER_INVAL (not a WAL header, or impossible geometry), -DER_CSUM
 * (bad checksum), -DER_DF_INCOMPT (another version). Context: any thread.
 */
int wal_hdr_check(const struct wal_hdr_df *hd, uint64_t file_size);

/**
 * Remember that the record @lsn starts at log position @pos, if it is the first to start
 * in its 64 KiB segment (bio_wal_trim moves the tail to such boundaries).
 * Context: the WAL's thread.
 */
void wal_bound_push(struct bio_wal *wal, uint64_t lsn, uint64_t pos);

/**
 * Block until the flush in flight, if any, has completed, without submitting more (close).
 * Context: the WAL's thread; blocks.
 */
void wal_drain(struct bio_wal *wal);

/**
 * Run the durability callbacks that are due, in LSN order: those at or below the durable
 * LSN with 0, and all of them with the WAL's error once it failed. Returns how many ran.
 * Context: the WAL's thread, from bio_wal_poll or bio_wal_close.
 */
int wal_cbs_run(struct bio_wal *wal);

/**
 * DAOS_BIO_ONE_SYNC: one-sync asked for (set, not empty, not "0"); read by every WAL and
 * data file at open, so both sides of a shard agree. Off by default.
 */
bool bio_env_one_sync(void);

/*
 * bio_file_lock's wait (up to 10 s, polling), with an exclusive flock or, when @ofd, an
 * open file description lock (F_OFD_SETLK) on the whole file: 0, -DER_BUSY or the error.
 */
int bio_lock_wait(int fd, bool ofd, const char *what, const char *path);

/**
 * DAOS_BIO_DSYNC: pipelined group commit asked for: how many flushes may be in flight
 * (1: not pipelined, the default; "1" or "on" asks for WAL_PIPE_DEFAULT, a number >= 2 for
 * that many, at most WAL_PIPE_MAX). Read by every WAL and data file at open.
 */
uint32_t bio_env_dsync(void);

#endif /* BIO_INTERNAL_H */
