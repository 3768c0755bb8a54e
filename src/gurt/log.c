/*
 * log.c: facilities, levels and masks for the D_* logging macros of gurt/debug.h.
 *
 * A facility caches its effective level and the mask generation it was computed for; the
 * macros compare that generation with d_log_gen and call d_log_fac_refresh() only when the
 * masks changed, so a disabled message costs two loads and two compares. Mask parsing and
 * output happen under d_log_lock; each line is written with a single write(2), so lines from
 * different threads and processes sharing a file never interleave.
 */
#define D_LOGFAC gurt

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>

int d_log_gen;
D_LOG_FAC_DEFINE(misc);
D_LOG_FAC_DEFINE(gurt);

#define LOG_MAX_FAC 64
#define LOG_FAC_NAME 32
#define LOG_LINE_MAX 4096
#define LOG_DEF_LEVEL D_LOG_ERR

/* The parsed masks. Written under log_lock; read by refresh under it too. */
struct log_masks {
	int lm_default;
	int lm_nfac;
	struct {
		char name[LOG_FAC_NAME];
		int level;
	} lm_fac[LOG_MAX_FAC];
	bool lm_subsys_all;
	int lm_nsubsys;
	char lm_subsys[LOG_MAX_FAC][LOG_FAC_NAME];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static struct log_masks log_masks = {.lm_default = LOG_DEF_LEVEL, .lm_subsys_all = true};
static int log_fd = -1;   /* -1: stderr */
static bool log_fd_owned; /* opened from D_LOG_FILE, closed by us */

static const char *const log_level_names[] = {
    [D_LOG_DEBUG] = "DBUG", [D_LOG_INFO] = "INFO", [D_LOG_NOTE] = "NOTE",  [D_LOG_WARN] = "WARN",
    [D_LOG_ERR] = "ERR",    [D_LOG_CRIT] = "CRIT", [D_LOG_EMERG] = "EMRG",
};

int
d_log_str2level(const char *str)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
	    {"DEBUG", D_LOG_DEBUG}, {"DBUG", D_LOG_DEBUG},  {"INFO", D_LOG_INFO},
	    {"NOTE", D_LOG_NOTE},   {"WARN", D_LOG_WARN},   {"ERR", D_LOG_ERR},
	    {"ERROR", D_LOG_ERR},   {"CRIT", D_LOG_CRIT},   {"EMRG", D_LOG_EMERG},
	    {"EMERG", D_LOG_EMERG}, {"FATAL", D_LOG_EMERG}, {"NONE", D_LOG_NONE},
	};
	size_t i;

	if (str == NULL)
		return -DER_INVAL;
	for (i = 0; i < D_ARRAY_SIZE(names); i++)
		if (strcasecmp(str, names[i].name) == 0)
			return names[i].level;
	return -DER_INVAL;
}

/* Trim blanks around [*s, *e) in place; returns the length left. */
static size_t
log_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
	return (size_t)(*e - *s);
}

/* Parse "LEVEL,fac=LEVEL,..." into @m (its subsys part untouched). */
static int
log_masks_parse(const char *str, struct log_masks *m)
{
	const char *p = str;

	m->lm_default = LOG_DEF_LEVEL;
	m->lm_nfac = 0;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end != NULL ? end : p + strlen(p);
		const char *eq;
		char tok[LOG_FAC_NAME];
		size_t len = log_trim(&s, &e);
		int level;

		p = end != NULL ? end + 1 : NULL;
		if (len == 0)
			continue;
		eq = memchr(s, '=', len);
		if (eq == NULL) {
			if (len >= sizeof(tok))
				return -DER_INVAL;
			memcpy(tok, s, len);
			tok[len] = '\0';
			level = d_log_str2level(tok);
			if (level < 0)
				return -DER_INVAL;
			m->lm_default = level;
			continue;
		}
		{
			const char *ns = s, *ne = eq, *ls = eq + 1, *le = e;
			size_t nlen = log_trim(&ns, &ne), llen = log_trim(&ls, &le);

			if (nlen == 0 || nlen >= LOG_FAC_NAME || llen == 0 || llen >= sizeof(tok) ||
			    m->lm_nfac == LOG_MAX_FAC)
				return -DER_INVAL;
			memcpy(tok, ls, llen);
			tok[llen] = '\0';
			level = d_log_str2level(tok);
			if (level < 0)
				return -DER_INVAL;
			memcpy(m->lm_fac[m->lm_nfac].name, ns, nlen);
			m->lm_fac[m->lm_nfac].name[nlen] = '\0';
			m->lm_fac[m->lm_nfac].level = level;
			m->lm_nfac++;
		}
	}
	return 0;
}

/* Parse a DD_SUBSYS list into @m. */
static int
log_subsys_parse(const char *str, struct log_masks *m)
{
	const char *p = str;

	m->lm_subsys_all = false;
	m->lm_nsubsys = 0;
	if (str == NULL || strcasecmp(str, "all") == 0 || *str == '\0') {
		m->lm_subsys_all = true;
		return 0;
	}
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end != NULL ? end : p + strlen(p);
		size_t len = log_trim(&s, &e);

		p = end != NULL ? end + 1 : NULL;
		if (len == 0)
			continue;
		if (len >= LOG_FAC_NAME || m->lm_nsubsys == LOG_MAX_FAC)
			return -DER_INVAL;
		if (len == 3 && strncasecmp(s, "all", 3) == 0) {
			m->lm_subsys_all = true;
			continue;
		}
		memcpy(m->lm_subsys[m->lm_nsubsys], s, len);
		m->lm_subsys[m->lm_nsubsys][len] = '\0';
		m->lm_nsubsys++;
	}
	return 0;
}

static void
log_bump_gen(void)
{
	__atomic_add_fetch(&d_log_gen, 1, __ATOMIC_RELEASE);
}

/* Open D_LOG_FILE, if set, as the output. Caller holds log_lock. */
static void
log_open_env_file(void)
{
	const char *path = getenv("D_LOG_FILE");
	int fd;

	if (path == NULL || *path == '\0')
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "gurt: cannot open D_LOG_FILE %s: %s; logging to stderr\n", path,
			strerror(errno));
		return;
	}
	if (log_fd_owned)
		close(log_fd);
	log_fd = fd;
	log_fd_owned = true;
}

/* Read the environment into the masks. Caller holds log_lock. */
static int
log_read_env(void)
{
	struct log_masks m = log_masks;
	const char *mask = getenv("D_LOG_MASK");
	int rc = 0;

	if (mask != NULL && log_masks_parse(mask, &m) != 0) {
		fprintf(stderr, "gurt: bad D_LOG_MASK '%s'; keeping the previous masks\n", mask);
		m = log_masks;
		rc = -DER_INVAL;
	}
	if (log_subsys_parse(getenv("DD_SUBSYS"), &m) != 0) {
		fprintf(stderr, "gurt: bad DD_SUBSYS '%s'; debug stays enabled for all\n",
			getenv("DD_SUBSYS"));
		m.lm_subsys_all = true;
		m.lm_nsubsys = 0;
		rc = -DER_INVAL;
	}
	log_masks = m;
	log_open_env_file();
	log_bump_gen();
	return rc;
}

static void
log_init_once(void)
{
	pthread_mutex_lock(&log_lock);
	log_read_env();
	pthread_mutex_unlock(&log_lock);
}

int
d_log_init(void)
{
	int rc;

	pthread_once(&log_once, log_init_once);
	pthread_mutex_lock(&log_lock);
	rc = log_read_env();
	pthread_mutex_unlock(&log_lock);
	return rc;
}

void
d_log_fini(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd_owned)
		close(log_fd);
	log_fd = -1;
	log_fd_owned = false;
	pthread_mutex_unlock(&log_lock);
}

int
d_log_setmasks(const char *masks)
{
	struct log_masks m;
	int rc;

	pthread_once(&log_once, log_init_once);
	pthread_mutex_lock(&log_lock);
	m = log_masks;
	rc = log_masks_parse(masks != NULL ? masks : "", &m);
	if (rc == 0) {
		log_masks = m;
		log_bump_gen();
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

int
d_log_set_subsys(const char *subsys)
{
	struct log_masks m;
	int rc;

	pthread_once(&log_once, log_init_once);
	pthread_mutex_lock(&log_lock);
	m = log_masks;
	rc = log_subsys_parse(subsys, &m);
	if (rc == 0) {
		log_masks = m;
		log_bump_gen();
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

int
d_log_set_fd(int fd)
{
	int old;

	pthread_once(&log_once, log_init_once);
	pthread_mutex_lock(&log_lock);
	/* A file we opened ourselves is closed here: the caller never saw its fd. */
	old = log_fd_owned ? -1 : log_fd;
	if (log_fd_owned && fd != log_fd)
		close(log_fd);
	log_fd_owned = false;
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	return old;
}

void
d_log_fac_refresh(struct d_log_fac *fac)
{
	int gen, level, i;

	pthread_once(&log_once, log_init_once);
	pthread_mutex_lock(&log_lock);
	gen = __atomic_load_n(&d_log_gen, __ATOMIC_ACQUIRE);
	level = log_masks.lm_default;
	for (i = 0; i < log_masks.lm_nfac; i++)
		if (strcmp(log_masks.lm_fac[i].name, fac->lf_name) == 0)
			level = log_masks.lm_fac[i].level;
	if (level == D_LOG_DEBUG && !log_masks.lm_subsys_all) {
		bool listed = false;

		for (i = 0; i < log_masks.lm_nsubsys; i++)
			if (strcmp(log_masks.lm_subsys[i], fac->lf_name) == 0)
				listed = true;
		if (!listed)
			level = D_LOG_INFO;
	}
	__atomic_store_n(&fac->lf_level, level, __ATOMIC_RELAXED);
	__atomic_store_n(&fac->lf_gen, gen, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&log_lock);
}

static const char *
log_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* Format the line prefix into @buf; returns its length. */
static size_t
log_prefix(char *buf, size_t size, struct d_log_fac *fac, int level, const char *file, int line,
	   const char *func)
{
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(buf, size, "%04d/%02d/%02d %02d:%02d:%02d.%06ld %d/%ld %s %s %s:%d %s() ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)tv.tv_usec, (int)getpid(), (long)syscall(SYS_gettid), fac->lf_name,
		     level >= 0 && level < D_LOG_NONE ? log_level_names[level] : "????",
		     log_basename(file), line, func);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static void
log_emit(const char *buf, size_t len)
{
	int fd;
	ssize_t rc;

	pthread_mutex_lock(&log_lock);
	fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	while (len > 0) {
		rc = write(fd, buf, len);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		buf += rc;
		len -= (size_t)rc;
	}
	pthread_mutex_unlock(&log_lock);
}

static void log_vwrite(struct d_log_fac *fac, int level, const char *file, int line,
		       const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void
log_vwrite(struct d_log_fac *fac, int level, const char *file, int line, const char *func,
	   const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t len;
	int n;

	len = log_prefix(buf, sizeof(buf), fac, level, file, line, func);
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf) - len) {
		/* Truncated: mark it, and keep room for the newline. */
		len = sizeof(buf) - 5;
		memcpy(buf + len, "...\n", 4);
		len += 4;
	} else {
		len += (size_t)n;
		if (len == 0 || buf[len - 1] != '\n') {
			if (len == sizeof(buf) - 1)
				len--;
			buf[len++] = '\n';
		}
	}
	log_emit(buf, len);
}

void
d_log_write(struct d_log_fac *fac, int level, const char *file, int line, const char *func,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fac, level, file, line, func, fmt, ap);
	va_end(ap);
}

bool
d_log_rl_allow(struct d_log_rl *rl, uint32_t *dropped)
{
	struct timespec ts;
	int64_t now, win;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (int64_t)ts.tv_sec;
	*dropped = 0;
	win = __atomic_load_n(&rl->rl_window, __ATOMIC_RELAXED);
	if (win != now && __atomic_compare_exchange_n(&rl->rl_window, &win, now, false,
						      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		__atomic_store_n(&rl->rl_count, 0, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&rl->rl_count, 1, __ATOMIC_RELAXED) >= D_LOG_RL_BURST) {
		__atomic_fetch_add(&rl->rl_dropped, 1, __ATOMIC_RELAXED);
		return false;
	}
	*dropped = __atomic_exchange_n(&rl->rl_dropped, 0, __ATOMIC_RELAXED);
	return true;
}

void
d_assert_fail(const char *cond, const char *file, int line, const char *func, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX / 2] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	d_log_write(&d_logfac_gurt, D_LOG_EMERG, file, line, func, "assertion '%s' failed%s%s",
		    cond, fmt != NULL ? ": " : "", msg);
	abort();
}
