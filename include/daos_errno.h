/*
 * daos_errno.h: DAOS error numbers. Functions return 0 or a negative DER_* value.
 *
 * The table is one X-macro list per range, ACTION(name, value, description). The enum,
 * d_errstr() and d_errdesc() are all generated from it, so a code, its name and its text
 * cannot drift apart. Names and numbers follow DAOS 2.x exactly (applications compile the
 * numbers in, and they travel on the wire); the descriptions are our own.
 *
 * Each range is contiguous: its codes are base + 1, base + 2, ... in list order. A new code
 * goes at the end of its list; a code is never renumbered or reused.
 */
#ifndef D_DAOS_ERRNO_H
#define D_DAOS_ERRNO_H

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Generic (runtime, transport, telemetry) codes, from 1001. ACTION(name, value, desc) */
#define D_FOREACH_GURT_ERR(ACTION)                                                                 \
	ACTION(DER_NO_PERM, (DER_ERR_GURT_BASE + 1), "Permission denied for this operation")       \
	ACTION(DER_NO_HDL, (DER_ERR_GURT_BASE + 2), "Handle is invalid or already closed")         \
	ACTION(DER_INVAL, (DER_ERR_GURT_BASE + 3), "Invalid argument")                             \
	ACTION(DER_EXIST, (DER_ERR_GURT_BASE + 4), "Object already exists")                        \
	ACTION(DER_NONEXIST, (DER_ERR_GURT_BASE + 5), "Object does not exist")                     \
	ACTION(DER_UNREACH, (DER_ERR_GURT_BASE + 6), "Peer cannot be reached")                     \
	ACTION(DER_NOSPACE, (DER_ERR_GURT_BASE + 7), "Storage target is out of space")             \
	ACTION(DER_ALREADY, (DER_ERR_GURT_BASE + 8), "Operation was already done")                 \
	ACTION(DER_NOMEM, (DER_ERR_GURT_BASE + 9), "Memory allocation failed")                     \
	ACTION(DER_NOSYS, (DER_ERR_GURT_BASE + 10), "Operation not implemented")                   \
	ACTION(DER_TIMEDOUT, (DER_ERR_GURT_BASE + 11), "Operation timed out")                      \
	ACTION(DER_BUSY, (DER_ERR_GURT_BASE + 12), "Resource is busy")                             \
	ACTION(DER_AGAIN, (DER_ERR_GURT_BASE + 13), "Temporary failure; retry the operation")      \
	ACTION(DER_PROTO, (DER_ERR_GURT_BASE + 14), "Peers speak incompatible protocol versions")  \
	ACTION(DER_UNINIT, (DER_ERR_GURT_BASE + 15), "Component used before it was initialized")   \
	ACTION(DER_TRUNC, (DER_ERR_GURT_BASE + 16), "Supplied buffer is too small for the result") \
	ACTION(DER_OVERFLOW, (DER_ERR_GURT_BASE + 17),                                             \
	       "Value does not fit the destination type or buffer")                                \
	ACTION(DER_CANCELED, (DER_ERR_GURT_BASE + 18), "Request was canceled")                     \
	ACTION(DER_OOG, (DER_ERR_GURT_BASE + 19), "Rank is not a member of the group")             \
	ACTION(DER_HG, (DER_ERR_GURT_BASE + 20), "Network transport error")                        \
	ACTION(DER_UNREG, (DER_ERR_GURT_BASE + 21),                                                \
	       "RPC opcode or protocol version is not registered")                                 \
	ACTION(DER_ADDRSTR_GEN, (DER_ERR_GURT_BASE + 22),                                          \
	       "Could not build a network address string")                                         \
	ACTION(DER_PMIX, (DER_ERR_GURT_BASE + 23), "Process-management (PMIx) layer error")        \
	ACTION(DER_IVCB_FORWARD, (DER_ERR_GURT_BASE + 24),                                         \
	       "IV entry not held locally; the request must be forwarded")                         \
	ACTION(DER_MISC, (DER_ERR_GURT_BASE + 25), "Unclassified error")                           \
	ACTION(DER_BADPATH, (DER_ERR_GURT_BASE + 26), "Malformed path name")                       \
	ACTION(DER_NOTDIR, (DER_ERR_GURT_BASE + 27), "Path component is not a directory")          \
	ACTION(DER_CORPC_INCOMPLETE, (DER_ERR_GURT_BASE + 28),                                     \
	       "Collective RPC did not complete on every rank")                                    \
	ACTION(DER_NO_RAS_RANK, (DER_ERR_GURT_BASE + 29), "No rank is subscribed to RAS events")   \
	ACTION(DER_NOTATTACH, (DER_ERR_GURT_BASE + 30), "Not attached to the service group")       \
	ACTION(DER_MISMATCH, (DER_ERR_GURT_BASE + 31), "Version mismatch")                         \
	ACTION(DER_EXCLUDED, (DER_ERR_GURT_BASE + 32), "Rank was excluded from the system")        \
	ACTION(DER_NOREPLY, (DER_ERR_GURT_BASE + 33),                                              \
	       "RPC handler returned without sending a reply")                                     \
	ACTION(DER_DOS, (DER_ERR_GURT_BASE + 34),                                                  \
	       "Request refused to protect the service from overload")                             \
	ACTION(DER_BAD_TARGET, (DER_ERR_GURT_BASE + 35), "RPC reached the wrong target")           \
	ACTION(DER_GRPVER, (DER_ERR_GURT_BASE + 36), "Group membership versions differ")           \
	ACTION(DER_HLC_SYNC, (DER_ERR_GURT_BASE + 37), "Hybrid logical clocks are too far apart")  \
	ACTION(DER_NO_SHMEM, (DER_ERR_GURT_BASE + 38), "Shared memory is exhausted")               \
	ACTION(DER_ADD_METRIC_FAILED, (DER_ERR_GURT_BASE + 39),                                    \
	       "Could not add the telemetry metric")                                               \
	ACTION(DER_DURATION_MISMATCH, (DER_ERR_GURT_BASE + 40),                                    \
	       "Duration ended without a matching start")                                          \
	ACTION(DER_OP_NOT_PERMITTED, (DER_ERR_GURT_BASE + 41),                                     \
	       "Operation not allowed on this metric type")                                        \
	ACTION(DER_EXCEEDS_PATH_LEN, (DER_ERR_GURT_BASE + 42), "Path name is too long")            \
	ACTION(DER_METRIC_NOT_FOUND, (DER_ERR_GURT_BASE + 43), "Telemetry metric not found")       \
	ACTION(DER_SHMEM_PERMS, (DER_ERR_GURT_BASE + 44),                                          \
	       "Shared memory segment not accessible to this user or group")                       \
	ACTION(DER_HG_FATAL, (DER_ERR_GURT_BASE + 45), "Unrecoverable network transport error")

/** Storage-system codes, from 2001. ACTION(name, value, desc) */
#define D_FOREACH_DAOS_ERR(ACTION)                                                                 \
	ACTION(DER_IO, (DER_ERR_DAOS_BASE + 1), "Input/output error")                              \
	ACTION(DER_FREE_MEM, (DER_ERR_DAOS_BASE + 2), "Failed to release memory")                  \
	ACTION(DER_ENOENT, (DER_ERR_DAOS_BASE + 3), "Entry not found")                             \
	ACTION(DER_NOTYPE, (DER_ERR_DAOS_BASE + 4), "Object type not recognized")                  \
	ACTION(DER_NOSCHEMA, (DER_ERR_DAOS_BASE + 5), "Object schema not recognized")              \
	ACTION(DER_NOLOCAL, (DER_ERR_DAOS_BASE + 6), "Object is not stored locally")               \
	ACTION(DER_STALE, (DER_ERR_DAOS_BASE + 7), "Pool map version is out of date")              \
	ACTION(DER_NOTLEADER, (DER_ERR_DAOS_BASE + 8), "This replica is not the service leader")   \
	ACTION(DER_TGT_CREATE, (DER_ERR_DAOS_BASE + 9), "Failed to create the target")             \
	ACTION(DER_EP_RO, (DER_ERR_DAOS_BASE + 10), "Epoch cannot be modified")                    \
	ACTION(DER_EP_OLD, (DER_ERR_DAOS_BASE + 11),                                               \
	       "Epoch is too old; its data has been reclaimed")                                    \
	ACTION(DER_KEY2BIG, (DER_ERR_DAOS_BASE + 12), "Key exceeds the size limit")                \
	ACTION(DER_REC2BIG, (DER_ERR_DAOS_BASE + 13), "Record exceeds the size limit")             \
	ACTION(DER_IO_INVAL, (DER_ERR_DAOS_BASE + 14),                                             \
	       "I/O buffers do not line up with the object extents")                               \
	ACTION(DER_EQ_BUSY, (DER_ERR_DAOS_BASE + 15), "Event queue still has events in flight")    \
	ACTION(DER_DOMAIN, (DER_ERR_DAOS_BASE + 16), "Cluster component domains do not match")     \
	ACTION(DER_SHUTDOWN, (DER_ERR_DAOS_BASE + 17), "Service is shutting down")                 \
	ACTION(DER_INPROGRESS, (DER_ERR_DAOS_BASE + 18), "Operation is still in progress")         \
	ACTION(DER_NOTAPPLICABLE, (DER_ERR_DAOS_BASE + 19), "Operation does not apply here")       \
	ACTION(DER_NOTREPLICA, (DER_ERR_DAOS_BASE + 20),                                           \
	       "This engine holds no replica of the service")                                      \
	ACTION(DER_CSUM, (DER_ERR_DAOS_BASE + 21), "Checksum verification failed")                 \
	ACTION(DER_DF_INVAL, (DER_ERR_DAOS_BASE + 22), "On-media format not supported")            \
	ACTION(DER_DF_INCOMPT, (DER_ERR_DAOS_BASE + 23),                                           \
	       "On-media format version is incompatible")                                          \
	ACTION(DER_REC_SIZE, (DER_ERR_DAOS_BASE + 24), "Record size does not match")               \
	ACTION(DER_TX_RESTART, (DER_ERR_DAOS_BASE + 25), "Transaction must be restarted")          \
	ACTION(DER_DATA_LOSS, (DER_ERR_DAOS_BASE + 26), "Data was lost and cannot be recovered")   \
	ACTION(DER_OP_CANCELED, (DER_ERR_DAOS_BASE + 27), "Storage operation was aborted")         \
	ACTION(DER_TX_BUSY, (DER_ERR_DAOS_BASE + 28),                                              \
	       "Transaction is not committed yet; its outcome is open")                            \
	ACTION(DER_AGENT_INCOMPAT, (DER_ERR_DAOS_BASE + 29),                                       \
	       "Agent version is incompatible with this library")                                  \
	ACTION(DER_NEED_TX, (DER_ERR_DAOS_BASE + 30),                                              \
	       "Operation must run in a distributed transaction")                                  \
	ACTION(DER_RF, (DER_ERR_DAOS_BASE + 31), "Failures exceed the redundancy factor")          \
	ACTION(DER_FETCH_AGAIN, (DER_ERR_DAOS_BASE + 32), "Fetch must be retried")                 \
	ACTION(DER_TX_UNCERTAIN, (DER_ERR_DAOS_BASE + 33),                                         \
	       "Transaction state unknown here; try another replica")                              \
	ACTION(DER_AGENT_COMM, (DER_ERR_DAOS_BASE + 34), "Cannot communicate with the agent")      \
	ACTION(DER_ID_MISMATCH, (DER_ERR_DAOS_BASE + 35), "Identifier mismatch")                   \
	ACTION(DER_TGT_RETRY, (DER_ERR_DAOS_BASE + 36), "Retry the request on another target")     \
	ACTION(DER_NOTSUPPORTED, (DER_ERR_DAOS_BASE + 37), "Operation not supported")              \
	ACTION(DER_CONTROL_INCOMPAT, (DER_ERR_DAOS_BASE + 38),                                     \
	       "Control-plane components are incompatible")                                        \
	ACTION(DER_NO_SERVICE, (DER_ERR_DAOS_BASE + 39), "Service is not available")               \
	ACTION(DER_TX_ID_REUSED, (DER_ERR_DAOS_BASE + 40), "Transaction ID may have been reused")  \
	ACTION(DER_UPDATE_AGAIN, (DER_ERR_DAOS_BASE + 41), "Update must be retried")               \
	ACTION(DER_NVME_IO, (DER_ERR_DAOS_BASE + 42), "NVMe device I/O error")                     \
	ACTION(DER_NO_CERT, (DER_ERR_DAOS_BASE + 43), "A certificate could not be read")           \
	ACTION(DER_BAD_CERT, (DER_ERR_DAOS_BASE + 44),                                             \
	       "Certificate is not a valid x509 certificate")                                      \
	ACTION(DER_VOS_PARTIAL_UPDATE, (DER_ERR_DAOS_BASE + 45),                                   \
	       "Local storage applied only part of the update")                                    \
	ACTION(DER_CHKPT_BUSY, (DER_ERR_DAOS_BASE + 46),                                           \
	       "Page is read-only while a checkpoint runs")                                        \
	ACTION(DER_DIV_BY_ZERO, (DER_ERR_DAOS_BASE + 47), "Division by zero")

/** The ranges, ACTION(range, base); range R's list is D_FOREACH_<R>_ERR. */
#define D_FOREACH_ERR_RANGE(ACTION) ACTION(GURT, 1000) ACTION(DAOS, 2000)

#define D_DEFINE_ERRNO_(name, value, desc) name = (value),
#define D_DEFINE_RANGE_(range, base)                                                               \
	DER_ERR_##range##_BASE = (base),                                                           \
	D_FOREACH_##range##_ERR(D_DEFINE_ERRNO_) DER_ERR_##range##_LIMIT,

/**
 * All error codes. DER_ERR_<R>_BASE is one below the first code of range R and
 * DER_ERR_<R>_LIMIT one above its last; neither is itself an error.
 */
enum daos_errno {
	DER_SUCCESS = 0,
	D_FOREACH_ERR_RANGE(D_DEFINE_RANGE_)
	/** Returned for a code no table knows; d_errstr() names every such code this. */
	DER_UNKNOWN = (DER_ERR_GURT_BASE + 500000),
};

#undef D_DEFINE_RANGE_
#undef D_DEFINE_ERRNO_

/** Old name of DER_EXCLUDED, kept so that older sources still build. */
#define DER_EVICTED DER_EXCLUDED

/**
 * The name of @rc, e.g. "DER_NONEXIST"; the sign is ignored. 0 is "DER_SUCCESS"; a code
 * outside the table is "DER_UNKNOWN".
 * Returns a static string; never NULL.
 * Context: any thread; does not block.
 */
const char *d_errstr(int rc);

/**
 * A one-line English description of @rc; the sign is ignored. A code outside the table
 * gets a generic "unknown error" text.
 * Returns a static string; never NULL.
 * Context: any thread; does not block.
 */
const char *d_errdesc(int rc);

/**
 * Convert an errno (either sign; libraries differ) to a negative DER_* code. 0 stays 0; an
 * errno without a DER_* counterpart becomes -DER_MISC. Call it on the line that sees the
 * errno: rc = d_errno2der(errno);
 * Context: any thread; does not block.
 */
int d_errno2der(int err);

/**
 * Convert a DER_* code (either sign) to a positive errno, e.g. for the DFS API. 0 stays 0;
 * a code without a close errno becomes EIO.
 * Context: any thread; does not block.
 */
int d_der2errno(int rc);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_ERRNO_H */
