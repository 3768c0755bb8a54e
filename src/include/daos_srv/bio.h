/*
 * daos_srv/bio.h: media access for VOS: the write-ahead log (WAL) that makes the umem heap
 * of a pool shard durable (DESIGN.md §7, "Durability (MD-on-SSD)"), and the O_DIRECT
 * writes of bulk values to the data file, whose sync the WAL orders before the records
 * that reference them (bio_wal_dep_sync).
 *
 * A WAL is one preallocated file used as a circular log of redo records. The life of one:
 *
 *	bio_wal_create(path, size)                 format a new file (once)
 *	bio_wal_open(path, attr, &wal)
 *	bio_wal_replay(wal, ckpt_lsn, cb, arg, &info)   always, before the first append
 *	loop:
 *		bio_wal_append(wal, redo, &lsn)        stage a record: no syscall, no wait
 *		bio_wal_wait(wal, lsn, hook, arg)      or bio_wal_on_durable(wal, lsn, cb, arg)
 *		bio_wal_poll(wal)                      from the xstream's poller
 *		bio_wal_trim(wal, ckpt_lsn)            after a checkpoint
 *	bio_wal_close(wal)
 *
 * Group commit: appends only copy the record into a staging buffer and hand out its log
 * sequence number (LSN, consecutive from 1). bio_wal_flush() -- and bio_wal_poll() whenever
 * no flush is in flight -- writes everything staged so far with one O_DIRECT write and
 * one fdatasync, both through io_uring, so all transactions staged while the previous
 * flush was in flight share the next one. At most one flush is in flight.
 *
 * Never block the caller: append, flush, poll, trim and on_durable never sleep; a caller
 * that must wait for durability passes bio_wal_wait() a wait hook (in the engine it yields
 * the ULT and the xstream poller calls bio_wal_poll(); in tests and tools it is
 * bio_wal_wait_io(), which blocks on the io_uring), or, better in the engine, parks the ULT
 * on an eventual that a bio_wal_on_durable() callback sets, so the xstream can sleep on
 * bio_wal_fd() meanwhile.
 * Only these block: bio_wal_create, bio_wal_open, bio_wal_replay and bio_wal_close (startup
 * and shutdown: file creation, header and log reads, draining the last flush), and the
 * helpers meant for tests and tools (bio_wal_wait_io, bio_wal_flush_wait).
 *
 * Errors: a failed write or sync fails the flush; every waiter of an LSN that was not yet
 * durable gets -DER_IO, and the WAL refuses appends, flushes and trims (-DER_IO) until it
 * is closed, reopened and replayed: after a failed write nobody knows what reached the disk.
 *
 * Context: a WAL belongs to one thread (a target xstream); nothing here locks. Record
 * format and invariants: src/bio/README.md.
 */
#ifndef DAOS_SRV_BIO_H
#define DAOS_SRV_BIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <daos_srv/umem.h>

struct bio_wal;

/** Smallest WAL file: two header blocks and 64 blocks of log. */
#define BIO_WAL_SIZE_MIN (66ULL * 4096)
/** Default staging buffer (capped at the size of the log area). */
#define BIO_WAL_STAGING_DEFAULT (16ULL << 20)

/**
 * How a flush is made durable. Measured here (README.md): on an idle machine RWF_DSYNC
 * is up to 1.5x faster with few updates in flight, but its completion runs on a kernel
 * worker that CPU-bound threads starve, and with busy cores it is 10-20x slower than
 * write + fdatasync, which is therefore the default.
 */
enum bio_wal_sync_mode {
	/* O_DIRECT writes, then one fdatasync (IORING_OP_FSYNC) once they completed */
	BIO_WAL_SYNC_FDATASYNC = 0,
	/* O_DIRECT writes with RWF_DSYNC: each write is durable when it completes */
	BIO_WAL_SYNC_DSYNC = 1,
};

/** Tunables of an open WAL; a zero field takes its default. */
struct bio_wal_attr {
	/* bytes of staging buffer (rounded up to 4 KiB; at most the log area, at most 1 GiB):
	 * records staged or in flight at once; a record larger than this is -DER_REC2BIG */
	uint64_t wa_staging_size;
	/* enum bio_wal_sync_mode */
	uint32_t wa_sync_mode;
	uint32_t wa_pad;
};

/** Why a replay stopped. */
enum bio_wal_stop {
	/* the clean end: an unwritten block, a record from an earlier pass of the circle or
	 * from a history a previous replay already cut off */
	BIO_WAL_STOP_END = 0,
	/* the next record announces itself (magic, WAL id, expected LSN) but its checksum or
	 * its payload is bad: a torn write at the tail, or corruption (see ri_lost) */
	BIO_WAL_STOP_CORRUPT = 1,
};

/** What a replay found. */
struct bio_wal_replay_info {
	uint64_t ri_first_lsn; /* LSN of the oldest live record (the trimmed tail) */
	uint64_t ri_last_lsn;  /* last good LSN: appends continue after it */
	uint64_t ri_records;   /* intact records read (ri_first_lsn .. ri_last_lsn) */
	uint64_t ri_applied;   /* records handed to the callback (LSN > from_lsn) */
	uint64_t ri_bytes;     /* bytes of those records on the log */
	uint32_t ri_stop;      /* enum bio_wal_stop */
	/* BIO_WAL_STOP_CORRUPT: intact records found right after the bad one, discarded with
	 * it. Non-zero means damage in the middle of the log rather than a torn tail. */
	uint32_t ri_lost;
	/* the record after ri_last_lsn references data-file bytes that do not match its CRC
	 * (one-sync: its flush did not complete before a power loss); it and every record
	 * after it were discarded */
	bool ri_data_stop;
};

/** Counters and state of a WAL (bio_wal_query). */
struct bio_wal_stats {
	uint64_t ws_file_size;
	uint64_t ws_area_size;    /* bytes of circular log */
	uint64_t ws_used;         /* log bytes (whole blocks) between the durable tail and head */
	uint64_t ws_staging_size; /* staging buffer capacity */
	uint64_t ws_staged;       /* bytes appended but not yet submitted */
	uint64_t ws_tail_lsn;     /* oldest live record, as durable in the header */
	uint64_t ws_last_lsn;     /* last LSN handed out (0: none yet) */
	uint64_t ws_durable_lsn;  /* every record <= this is durable */
	uint64_t ws_head_pos;     /* log position (bytes, never wraps) of the next append */
	uint64_t ws_tail_pos;     /* log position of the oldest live record */
	uint64_t ws_appends;      /* records appended since open */
	uint64_t ws_append_bytes; /* their bytes on the log (headers included) */
	uint64_t ws_flushes;      /* flushes submitted */
	uint64_t ws_writes;       /* write requests (log and header) */
	uint64_t ws_syncs;        /* durability points: RWF_DSYNC writes or fdatasyncs */
	uint64_t ws_hdr_writes;   /* header writes */
	uint64_t ws_dep_syncs;    /* data-file syncs ahead of log writes (bio_wal_dep_sync) */
	uint64_t ws_sfr;          /* one-sync data write-backs (sync_file_range) beside flushes */
	uint64_t ws_drefs;        /* data-file extents carried by records (bio_wal_dref_set) */
	uint64_t ws_bytes_written;
	uint64_t ws_nolog_appends; /* commits taken in index-only mode (bio_wal_set_nolog) */
	uint64_t ws_pad_bytes; /* pipelined: zeros after a flush's last record, to its block end */
	uint64_t ws_flush_ns;  /* recent flushes' latency, submit to retire (moving average, 1/8) */
	uint32_t ws_flights_max; /* most flushes in flight at once (pipelined: DAOS_BIO_DSYNC) */
	uint32_t ws_gen;         /* generation: one more at every open that replays */
	int32_t ws_error;        /* 0, or the -DER_* that stopped the WAL */
	bool ws_in_flight;       /* a flush is in flight */
};

/**
 * Callback of bio_wal_replay: apply the redo record @redo (borrowed, valid during the call
 * only; its ranges were checked against the record's CRC) with LSN @lsn. Return 0 to go on,
 * or a -DER_* error that stops the replay and is returned by it.
 */
typedef int (*bio_wal_replay_cb_t)(void *arg, uint64_t lsn, const struct umem_redo *redo);

/**
 * A wait hook (bio_wal_wait, bio_wal_space_wait): let the WAL make progress -- yield the
 * ULT (the xstream poller calls bio_wal_poll), or block on the io_uring (bio_wal_wait_io).
 * Return 0, or a -DER_* error that ends the wait with that error.
 */
typedef int (*bio_wal_wait_cb_t)(void *arg);

/**
 * Callback of bio_wal_on_durable: record @lsn is durable (@rc 0) or never will be (@rc
 * -DER_IO). Runs inside bio_wal_poll (or bio_wal_close); it may append, register more
 * callbacks and flush, but must not wait, poll or close the WAL.
 */
typedef void (*bio_wal_durable_cb_t)(void *arg, uint64_t lsn, int rc);

/**
 * Format a new WAL file of @size bytes (rounded down to 4 KiB, at least BIO_WAL_SIZE_MIN)
 * at @path (borrowed): preallocated and written once with zeros so that later overwrites
 * are cheap, an empty log (the first record will have LSN 1), synced with its directory.
 * Returns 0, -DER_EXIST (the file exists), -DER_INVAL (size), or the error of a syscall.
 * A failed create removes the file.
 *
 * Context: any thread that may block (startup and tools); writes @size bytes.
 */
int bio_wal_create(const char *path, uint64_t size);

/**
 * Open the WAL at @path (borrowed) with tunables @attr (borrowed, NULL for defaults). The
 * newer valid header block is read; nothing else. The caller owns *@wal and closes it with
 * bio_wal_close; bio_wal_replay must come before any append.
 * Returns 0, -DER_NONEXIST (no file), -DER_INVAL (not a WAL, or a file shorter than its
 * header says), -DER_CSUM (both header blocks damaged), -DER_DF_INCOMPT (another
 * version), -DER_NOMEM, or the error of a syscall (including io_uring setup).
 *
 * Context: any thread that may block (startup); the WAL then belongs to the calling thread.
 */
int bio_wal_open(const char *path, const struct bio_wal_attr *attr, struct bio_wal **wal);

/**
 * Read the live records (from the trimmed tail on) in LSN order and hand each record with
 * LSN > @from_lsn (the LSN a checkpoint covers) to @cb (may be NULL: scan only). The replay
 * stops at the first record whose magic, WAL id, LSN, generation, CRC or layout is wrong;
 * everything after it is treated as never written and will be overwritten. *@info (may be
 * NULL) receives what was found. Afterwards appends continue at the last good LSN + 1 (or
 * @from_lsn + 1 if the checkpoint is newer than the whole log, which then restarts empty).
 * Damaged bytes are never handed to @cb.
 * Returns 0; -DER_ALREADY (replayed before); -DER_DATA_LOSS if the log was trimmed past
 * @from_lsn + 1 (records the checkpoint does not cover are gone); -DER_IO (read error);
 * -DER_NOMEM; or @cb's error (the WAL then stays unreplayed: no appends).
 *
 * Context: the WAL's thread; blocks on reads of up to the whole log (startup).
 */
int bio_wal_replay(struct bio_wal *wal, uint64_t from_lsn, bio_wal_replay_cb_t cb, void *arg,
		   struct bio_wal_replay_info *info);

/**
 * Close @wal (NULL is fine): flush what is staged (and a pending header), wait for the
 * flush in flight, run the remaining durability callbacks, release everything.
 * Returns 0, or -DER_IO if the WAL had failed or the last flush failed (what was not
 * durable before is then unknown: reopen and replay).
 *
 * Context: the WAL's thread; blocks until the I/O in flight completes (shutdown).
 */
int bio_wal_close(struct bio_wal *wal);

/**
 * Stage the redo record @redo (borrowed; copied) and return its LSN in *@lsn. No system
 * call, no wait: the record becomes durable with a later flush. Suitable as umem's
 * so_commit hook (see bio_wal_umem_ops).
 * Returns 0; -DER_AGAIN: the log is full: checkpoint, bio_wal_trim, wait for the flush
 * that writes the header, retry; -DER_BUSY: the staging buffer is full: wait for the flush
 * in flight (bio_wal_space_wait), retry; -DER_REC2BIG: larger than the staging buffer or
 * the log can ever hold; -DER_UNINIT: not replayed yet; -DER_IO: the WAL failed.
 *
 * Context: the WAL's thread; never blocks or yields.
 */
int bio_wal_append(struct bio_wal *wal, const struct umem_redo *redo, uint64_t *lsn);

/**
 * Index-only mode (a VOS pool opened with VOS_POF_NO_WAL): from now until the close, an
 * append (bio_wal_append) takes the next LSN and makes it durable at once, without encoding
 * or staging anything, so nothing more reaches the log; bio_wal_trim and the header work
 * as before (a trim to the last LSN writes a header whose tail follows it, so a clean
 * close leaves a log that an ordinary open accepts). Nothing committed in this mode
 * survives a crash: the caller must make the pool refuse to open after one.
 * Returns 0, -DER_UNINIT (not replayed yet), -DER_BUSY (records are staged or in flight).
 *
 * Context: the WAL's thread; never blocks.
 */
int bio_wal_set_nolog(struct bio_wal *wal);

/** Is @wal in index-only mode (bio_wal_set_nolog)? */
bool bio_wal_nolog(struct bio_wal *wal);

/**
 * Bytes a redo record of @nr ranges and @bytes data bytes takes on the log, at most
 * (for bio_wal_space_wait).
 */
static inline uint64_t
bio_wal_rec_size(uint32_t nr, uint64_t bytes)
{
	return 40 + (uint64_t)nr * (16 + 7) + bytes;
}

/**
 * Wait through @wait(@arg) until a record of @rec_size bytes (bio_wal_rec_size) fits in
 * the staging buffer, for callers that must not see -DER_BUSY from a commit. Does not
 * reserve anything: another append may take the room again.
 * Returns 0; -DER_AGAIN if the log itself is full (checkpoint and trim first; not waited
 * for); -DER_REC2BIG; -DER_IO; -DER_UNINIT; or the hook's error.
 *
 * Context: the WAL's thread; waits only through @wait.
 */
int bio_wal_space_wait(struct bio_wal *wal, uint64_t rec_size, bio_wal_wait_cb_t wait, void *arg);

/**
 * Submit the staged records (and a pending header) as one flush, unless a flush is in
 * flight: they then go with the next flush, which bio_wal_poll submits when this one
 * completes. Returns 0, -DER_UNINIT, or -DER_IO (the WAL failed or the submission did).
 *
 * Context: the WAL's thread; never blocks.
 */
int bio_wal_flush(struct bio_wal *wal);

/**
 * Reap completed I/O without blocking: advance the durable LSN, fail everything after it on
 * an I/O error, run the durability callbacks that are due, then submit the next flush if
 * anything is staged and no flush is in flight. Returns the number of completions and
 * callbacks handled (> 0: work was done; never negative: a failure reaches the callbacks
 * and waiters as -DER_IO, and bio_wal_query's ws_error).
 *
 * Context: the WAL's thread (the xstream poller); never blocks. Not from a callback.
 */
int bio_wal_poll(struct bio_wal *wal);

/**
 * bio_wal_poll in the shape of a dss poller (dss_poll_cb_t; @wal is a struct bio_wal *):
 *
 *	dss_xstream_poller_add(xs, bio_wal_poller, bio_wal_arm, bio_wal_fd(wal), wal, &p);
 *
 * Context: as bio_wal_poll.
 */
int bio_wal_poller(void *wal);

/**
 * For a dss poller's arm callback (@wal is a struct bio_wal *): 0 if it is safe to sleep on
 * bio_wal_fd() (nothing is due that the fd would not signal), non-zero otherwise.
 *
 * Context: the WAL's thread.
 */
int bio_wal_arm(void *wal);

/**
 * An eventfd (owned by @wal; do not close) that becomes readable when I/O of @wal completes:
 * the fd of the xstream poller. bio_wal_poll drains it.
 *
 * Context: any thread.
 */
int bio_wal_fd(struct bio_wal *wal);

/** Every record with an LSN <= this is durable. Context: the WAL's thread. */
uint64_t bio_wal_durable_lsn(struct bio_wal *wal);

/** The last LSN handed out (0 if none). Context: the WAL's thread. */
uint64_t bio_wal_last_lsn(struct bio_wal *wal);

/**
 * Wait until record @lsn is durable, calling @wait(@arg) (required) between checks, and
 * bio_wal_poll after each call. Submits a flush if @lsn is only staged.
 * Returns 0, -DER_INVAL (@lsn was never handed out), -DER_IO (it never will be durable),
 * or the hook's error.
 *
 * Context: the WAL's thread, in a ULT (the engine hook yields) or a tool (bio_wal_wait_io).
 */
int bio_wal_wait(struct bio_wal *wal, uint64_t lsn, bio_wal_wait_cb_t wait, void *arg);

/**
 * The blocking wait hook for tests and tools (@wal is a struct bio_wal *): if a flush is in
 * flight, sleep until one of its requests completes; otherwise return at once.
 * Returns 0 or the error of io_uring_wait_cqe.
 *
 * Context: a thread that may block -- never an xstream.
 */
int bio_wal_wait_io(void *wal);

/**
 * Flush everything staged and block until it is durable (tests and tools).
 * Returns 0, -DER_UNINIT, or -DER_IO.
 *
 * Context: a thread that may block -- never an xstream.
 */
int bio_wal_flush_wait(struct bio_wal *wal);

/**
 * Call @cb(@arg, @lsn, rc) once record @lsn is durable (rc 0) or has failed (rc -DER_IO),
 * from a later bio_wal_poll (never from inside this call, even if @lsn is durable already).
 * Many callbacks complete with one flush, in LSN order. @arg is borrowed until the call.
 * Returns 0; -DER_INVAL (@lsn never handed out); -DER_IO (the WAL failed and @lsn is not
 * durable: @cb will not be called); -DER_NOMEM.
 *
 * Context: the WAL's thread; never blocks.
 */
int bio_wal_on_durable(struct bio_wal *wal, uint64_t lsn, bio_wal_durable_cb_t cb, void *arg);

/**
 * How many bio_wal_on_durable callbacks wait for a flush that is in flight now (0 when no
 * flush is in flight: nothing they wait for is on its way yet), and in *@flush_ns (may be
 * NULL) how long recent flushes took, submit to retire (ws_flush_ns). A caller whose many
 * requests wait here for flushes that take long knows its next event is that completion
 * (the engine's loop then sleeps instead of spinning).
 *
 * Context: the WAL's thread; never blocks.
 */
uint32_t bio_wal_durable_waiters(struct bio_wal *wal, uint64_t *flush_ns);

/**
 * After a checkpoint that covers every record <= @lsn: let the space of those records be
 * reused. The new tail goes to the header with the next flush; the space is reused only
 * once that header is durable, so a crash never finds the tail pointing at overwritten
 * records. The tail moves to a record boundary <= @lsn + 1 (at most 64 KiB of log behind:
 * the WAL keeps one boundary per 64 KiB); records left before it are skipped by a replay
 * from the checkpoint LSN.
 * Returns 0, -DER_INVAL (@lsn is not durable yet), -DER_UNINIT, -DER_IO.
 *
 * Context: the WAL's thread; never blocks.
 */
int bio_wal_trim(struct bio_wal *wal, uint64_t lsn);

/** Copy @wal's counters and state into *@st. Context: the WAL's thread. */
void bio_wal_query(struct bio_wal *wal, struct bio_wal_stats *st);

/**
 * Make the next flush carrying new records fdatasync @fd (a data file) before it writes
 * them: writes to @fd that completed before this call are then durable before any record
 * appended after it can be. The data sync of every update appended while a flush is in
 * flight is thus shared by the next flush. If the sync fails, the flush fails (and with it
 * the WAL, as for any failed flush). @fd is borrowed and must stay open while the WAL is.
 *
 * Context: the WAL's thread; never blocks.
 */
void bio_wal_dep_sync(struct bio_wal *wal, int fd);

/** A data-file extent a WAL record references, with the CRC32C of its bytes (one-sync). */
struct bio_wal_dref {
	uint64_t dr_off;
	uint32_t dr_len;
	uint32_t dr_crc;
};

/**
 * Is one-sync on (DAOS_BIO_ONE_SYNC, read at bio_wal_open; on when set and not "0", off by
 * default)? Then an update whose data-file extents are all durably written (bio_data_written) need
 * not make the flush sync the data file (bio_wal_dep_sync): its record carries the extents and
 * their CRCs (bio_wal_dref_set), the flush writes the data file's dirty pages back
 * (sync_file_range, no device flush) beside its log writes, and the log's one fsync makes
 * both durable. Replay checks the CRCs of records its flush may not have completed.
 * Context: the WAL's thread.
 */
bool bio_wal_one_sync(struct bio_wal *wal);

/**
 * The next bio_wal_append (the commit of the caller's transaction, which must follow
 * without a yield) carries the @nr (<= 16) extents @drefs (copied) of data file @fd
 * (borrowed, open as long as the WAL; also read by replay's checks after a reopen: pass
 * it before bio_wal_replay with @nr 0). Every append consumes them, and @nr 0 drops them
 * (after an aborted transaction). The bytes must have completed (bio_data_submit_wait)
 * and lie in durably written blocks (bio_data_written). Returns 0 or -DER_INVAL (too many:
 * use bio_wal_dep_sync instead). Context: the WAL's thread; never blocks.
 */
int bio_wal_dref_set(struct bio_wal *wal, int fd, const struct bio_wal_dref *drefs, uint32_t nr);

/**
 * Data-file blocks freed by transactions up to the LSN this returns may be handed out
 * again: the durable LSN, and with one-sync no more than the complete LSN of a durable
 * header while records carrying extents are newer than it, so that replay never checks
 * the CRC of a record whose blocks were rewritten since. Context: the WAL's thread.
 */
uint64_t bio_wal_reuse_lsn(struct bio_wal *wal);

/**
 * Blocks wait for a header that moves the complete LSN (bio_wal_reuse_lsn lags the
 * durable LSN): have the next flush write one, and submit it now (a header alone) if
 * none is in flight. Flushes with records write it anyway while the log is busy: call
 * this only when freed blocks are waiting. Context: the WAL's thread; never blocks.
 */
void bio_wal_reuse_push(struct bio_wal *wal);

/**
 * Wait, as bio_wal_wait does, until bio_wal_reuse_lsn reaches @lsn (durable already),
 * pushing the header that moves it. Returns 0, -DER_INVAL (@lsn not durable), -DER_IO,
 * or the hook's error. Context: as bio_wal_wait.
 */
int bio_wal_reuse_wait(struct bio_wal *wal, uint64_t lsn, bio_wal_wait_cb_t wait, void *arg);

/** CRC32C (Castagnoli; start @crc at 0) of @len bytes at @buf. Context: any thread. */
uint32_t bio_crc32c(uint32_t crc, const void *buf, size_t len);

/**
 * umem store glue: pass &bio_wal_umem_ops and the struct bio_wal * as the store of
 * umem_create/umem_open, and every committed transaction is appended to the WAL (its LSN
 * is umem_tx_last_lsn()). Errors of bio_wal_append abort the transaction.
 */
extern const struct umem_store_ops bio_wal_umem_ops;

/*
 * Data files: bulk values written and read with O_DIRECT through the file's own io_uring
 * (bio_data.c).
 *
 *	bio_data_batch_get(bd, &b)              one batch per update (or fetch)
 *	bio_data_write(b, off, iov, nr)         queue a value (no system call)
 *	...                                     more values of the same batch
 *	bio_data_submit_wait(b, hook, arg)      submit, wait for all; the batch ends
 *	bio_wal_dep_sync(wal, bio_data_fd(bd))  their sync goes with the next WAL flush
 *
 * A fetch queues bio_data_read()s instead (a batch holds reads or writes, not both); its
 * requests are in flight together and the bytes are in the caller's buffers when
 * bio_data_submit_wait returns 0. Several batches may be in flight at once (ULTs whose
 * wait hook yields); they share the ring, and a waiter reaps every completion.
 * Context: a data file and its batches belong to one thread.
 */
struct bio_data;
struct bio_data_batch;

/** Counters of a data file (bio_data_query). */
struct bio_data_stats {
	uint64_t ds_writes;          /* write requests submitted */
	uint64_t ds_bytes;           /* bytes they wrote (padding included) */
	uint64_t ds_buffered_writes; /* of ds_writes, written at once through the page cache */
	uint64_t ds_cache_writes;    /* of ds_writes, large ones through the ring, buffered */
	uint64_t ds_wb_starts;       /* write-backs started after cached writes (queued) */
	uint64_t ds_wb_errors;       /* of them, failed (not cancelled by their write's failure) */
	uint64_t ds_direct_bytes;    /* value bytes written straight from the caller's buffers */
	uint64_t ds_bounce_bytes;    /* value bytes copied into bounce chunks first */
	uint64_t ds_reads;        /* read requests (resubmissions not counted), cached ones too */
	uint64_t ds_read_bytes;   /* bytes they asked for (whole blocks) */
	uint64_t ds_cached_reads; /* of them, served at once from the page cache (RWF_NOWAIT) */
	uint64_t ds_cache_misses; /* reads the page cache did not hold whole: to the ring */
	uint64_t ds_short_reads;  /* reads that returned less and were resubmitted */
	uint64_t ds_errors;
	uint64_t ds_done;        /* requests completed (reaped), errors included */
	uint64_t ds_chunks;      /* bounce chunks (1 MiB) mapped so far */
	uint32_t ds_free_chunks; /* of them, not held by a batch now */
	uint64_t ds_zero_writes; /* zero-ahead passes (a fresh stretch written with zeros) */
	uint64_t ds_zero_bytes;  /* the zeros they wrote (counted when they completed) */
	uint64_t ds_zero_waits;  /* times a write waited for a zero write in flight */
	bool ds_zero_inflight;   /* a zero write is in flight (bio_data_ready reaps it) */
	bool ds_direct;          /* O_DIRECT (false: the file system has none; buffered) */
};

/**
 * Open the data file @path (borrowed) for writes: O_DIRECT where the file system allows
 * it, with an io_uring. The caller closes *@bd with bio_data_close.
 * Returns 0, -DER_NONEXIST, -DER_NOMEM, or the error of a syscall.
 * Context: any thread that may block (startup); it then belongs to the calling thread.
 */
int bio_data_open(const char *path, struct bio_data **bd);

/**
 * Close @bd (NULL is fine), after the writes in flight completed. Every batch must have
 * ended. Context: its thread; blocks until the I/O in flight completes.
 */
void bio_data_close(struct bio_data *bd);

/**
 * Have completions of @bd's writes signal eventfd @fd (borrowed), e.g. bio_wal_fd() of
 * the WAL whose poller the xstream sleeps on, so that a ULT waiting for its data writes
 * through a yielding hook is resumed when they complete. 0 or a syscall's error.
 * Context: @bd's thread.
 */
int bio_data_set_eventfd(struct bio_data *bd, int fd);

/**
 * Are completions of @bd's requests waiting to be reaped (by the batch's waiter)? For an
 * arm callback: after the eventfd was drained, such a completion no longer signals it.
 * While a zero-ahead write is in flight (which no batch waits for) it reaps every
 * completion there is itself and still says true: bio_data_done() then shows progress
 * to wake the waiters, and the next call says false.
 * Context: @bd's thread; never blocks.
 */
bool bio_data_ready(struct bio_data *bd);

/** Requests of @bd completed so far (ds_done of bio_data_query). Context: its thread. */
uint64_t bio_data_done(struct bio_data *bd);

/** A descriptor of the file (owned by @bd), for bio_wal_dep_sync. */
int bio_data_fd(struct bio_data *bd);

/**
 * Are all the blocks of [@off, @off + @len) of @bd *durably written* extents (blocks
 * written before this open, or zeroed ahead and synced since): a write of them changes
 * no file-system metadata, so its bytes are durable once written back and the device
 * cache flushed (one-sync, bio_wal_one_sync). False when unknown. Context: @bd's thread.
 */
bool bio_data_written(struct bio_data *bd, uint64_t off, uint64_t len);

/**
 * Start a batch of writes on @bd; *@b is ended by bio_data_submit_wait or bio_data_cancel.
 * Returns 0, -DER_NOMEM, or -DER_IO (a submission failed earlier: reopen the file).
 * Context: @bd's thread.
 */
int bio_data_batch_get(struct bio_data *bd, struct bio_data_batch **b);

/**
 * Queue in batch @b the write of one value: the bytes of @iov[0..@nr) (borrowed until
 * the batch ends), one after the other, at file offset @off (a multiple of 4 KiB),
 * followed by zeros up to the next 4 KiB boundary. Whole aligned 4 KiB blocks of the
 * caller's buffers are written from where they are; the rest is copied into bounce
 * chunks first. Returns 0 or -DER_NOMEM (then cancel the batch).
 * Context: @b's thread; no system call (a new bounce chunk may mmap).
 */
int bio_data_write(struct bio_data_batch *b, uint64_t off, const struct iovec *iov,
		   unsigned int nr);

/**
 * Queue in batch @b the read of the file bytes at @off (any offset) into @iov[0..@nr)
 * (their iov_len bytes, one after the other; borrowed until the batch ends). Whole aligned
 * 4 KiB blocks go straight into the caller's buffers; the rest is read as whole blocks
 * into bounce chunks and copied out when the batch completed. Requests move at most
 * 256 KiB each, so a large value is read by several at once. A batch holds only reads or
 * only writes. Returns 0 or -DER_NOMEM (then cancel the batch).
 * Context: @b's thread; no system call (a new bounce chunk may mmap).
 */
int bio_data_read(struct bio_data_batch *b, uint64_t off, const struct iovec *iov, unsigned int nr);

/**
 * Submit the requests queued in @b and wait, through @wait(@arg) (NULL: block on the ring),
 * until all completed; the batch then ends, whatever the outcome. Returns 0, -DER_IO (a
 * write failed or was short: what reached the file is unknown; a read failed or hit the
 * end of the file: the caller's buffers hold some of the bytes), -DER_NOSPACE, or the
 * hook's error (after the requests in flight drained). A short read is resubmitted for
 * the rest, not an error.
 * Context: @b's thread; waits only through @wait (or blocks when it is NULL).
 */
int bio_data_submit_wait(struct bio_data_batch *b, bio_wal_wait_cb_t wait, void *arg);

/** End batch @b without submitting anything. Context: @b's thread. */
void bio_data_cancel(struct bio_data_batch *b);

/**
 * The blocking wait hook of a data file (@bd is a struct bio_data *): sleep until a write
 * in flight completes; return at once if none is. Context: a thread that may block.
 */
int bio_data_wait_io(void *bd);

/** Copy the counters of @bd into *@st. */
void bio_data_query(struct bio_data *bd, struct bio_data_stats *st);

/**
 * Take an exclusive flock on @fd, the descriptor a writer submits its asynchronous I/O
 * through (@what and @path name it in messages). A process killed with writes in flight
 * through its io_uring does not take them back: they land after it is reaped, and would
 * overwrite what the next opener writes since. The kernel holds the file open until those
 * requests complete, and the lock lives as long as the file (every descriptor sharing it),
 * so getting the lock means the old owner's I/O is done. Never unlocked explicitly: close
 * releases it. A live owner keeps it for good: -DER_BUSY after 10 s of waiting.
 * Returns 0, -DER_BUSY, or the error of flock. (VOS locks its meta file with it too.)
 * Context: startup (it sleeps while it waits).
 */
int bio_file_lock(int fd, const char *what, const char *path);

#endif /* DAOS_SRV_BIO_H */
