/* peak-rss - run a command and write its peak resident memory and wall
 * time to a file. A child forked from a small process starts small, so its
 * peak is its own (a child forked from a large one, such as the Python of
 * scripts/bench, inherits that size as its starting peak).
 *
 *   peak-rss RESULT_FILE CMD [ARGS...]
 *   RESULT_FILE gets: peak_kib wall_seconds exit_status cpu_seconds */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: peak-rss RESULT_FILE CMD [ARGS...]\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("peak-rss: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("peak-rss: wait4");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(f, "%ld %.6f %d %.6f\n", ru.ru_maxrss, s, WIFEXITED(status) ? WEXITSTATUS(status) : 128,
		cpu);
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
