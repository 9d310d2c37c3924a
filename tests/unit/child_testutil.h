/*
** Child processes for unit tests, started as a new program rather than forked.
**
** Criterion's runner has threads of its own. A fork copies whatever locks they hold at that
** instant (under make check, the sanitizers' allocator lock), so a forked child that allocates
** can wait forever on a lock nobody will release. Instead the test binary runs itself again
** (posix_spawn of /proc/self/exe, which execs at once) with SPTT_TEST_CHILD naming the work, and
** a constructor in the test file does that work and exits before Criterion's main starts:
**
**     __attribute__((constructor)) static void as_child(void)
**     {
**         const char *zWork = getenv(SPTT_TEST_CHILD);
**         if( zWork ) _exit(do_work(zWork));
**     }
*/
#ifndef SPTT_CHILD_TESTUTIL_H
#define SPTT_CHILD_TESTUTIL_H

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SPTT_TEST_CHILD "SPTT_TEST_CHILD"

extern char **environ;

/* Starts this binary again with SPTT_TEST_CHILD=zWork added to the environment; the child's pid,
** or -1. */
static pid_t child_start(const char *zWork)
{
    static const char zKey[] = SPTT_TEST_CHILD "=";
    size_t n = 0;
    while( environ[n] ) n++;
    char **azEnv = calloc(n + 2, sizeof *azEnv);
    char *zVar = malloc(sizeof zKey + strlen(zWork));
    pid_t pid = -1;
    if( azEnv && zVar ){
        size_t k = 0;
        for(size_t i = 0; i < n; i++) if( strncmp(environ[i], zKey, sizeof zKey - 1)!=0 ) azEnv[k++] = environ[i];
        sprintf(zVar, "%s%s", zKey, zWork);
        azEnv[k] = zVar;
        char *azArgv[] = { (char *)"test-child", NULL };
        if( posix_spawn(&pid, "/proc/self/exe", NULL, NULL, azArgv, azEnv)!=0 ) pid = -1;
    }
    free(azEnv);
    free(zVar);
    return pid;
}

/* The exit status of a child from child_start, or -1 when it did not exit normally. */
static int child_wait(pid_t pid)
{
    int st;
    if( pid < 0 || waitpid(pid, &st, 0)!=pid ) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
