/*
 * perf_cpu.h: CPU time of this process and of another (the server), for the benchmarks'
 * "CPU per operation" figures (daos_perf, dfs_perf). Header only: each benchmark is one file.
 */
#ifndef PERF_CPU_H
#define PERF_CPU_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* CPU time of this process so far (ns, every thread). */
static inline uint64_t
perf_self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time of every thread of process @pid so far (ns, from schedstat), or 0. */
static inline uint64_t
perf_proc_cpu_ns(int pid)
{
	char path[64];
	struct dirent *de;
	uint64_t sum = 0;
	DIR *d;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char f[300];
		unsigned long long ns;
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "/proc/%d/task/%s/schedstat", pid, de->d_name);
		fp = fopen(f, "r");
		if (fp == NULL)
			continue;
		if (fscanf(fp, "%llu", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(d);
	return sum;
}

#endif /* PERF_CPU_H */
