/*
 * spawntime - time one run of a command, for make bench
 *
 * usage: spawntime OUTFILE COMMAND [ARG...]
 *
 * Runs COMMAND once with posix_spawn() (stdin from /dev/null, stdout and
 * stderr into OUTFILE) and prints the wall time from just before the spawn
 * to the end of waitpid() in milliseconds ("12.345"). A shell that timed the
 * command itself would also count its own fork, which on a virtual machine
 * costs several milliseconds more than the program being measured.
 * Exit status: the command's, 128 + N when signal N ended it, 127 when it
 * could not be started.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int
main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct timespec t0, t1;
	pid_t	pid;
	int	status, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: spawntime OUTFILE COMMAND [ARG...]\n");
		return 127;
	}
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0) {
		fprintf(stderr, "spawntime: cannot set up the file actions\n");
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ);
	if (rc != 0) {
		fprintf(stderr, "spawntime: %s: %s\n", argv[2], strerror(rc));
		return 127;
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	posix_spawn_file_actions_destroy(&fa);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
