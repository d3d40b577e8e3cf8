/* forks.c — a program that forks: chanlab exec runs it free (uncontrolled),
 * with a note, never under a schedule it would not keep. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    int status;
    waitpid(p, &status, 0);
    puts("done");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
