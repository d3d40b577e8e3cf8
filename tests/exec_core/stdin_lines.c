/* stdin_lines.c — two threads count the lines of standard input under a
 * mutex; exit status 0 when there were 100. Under chanlab exec with stdin
 * redirected from a file, every schedule reads the whole file. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *count(void *arg)
{
    (void)arg;
    char line[256];
    for (;;) {
        pthread_mutex_lock(&m);
        char *r = fgets(line, sizeof line, stdin);
        if (r)
            total++;
        pthread_mutex_unlock(&m);
        if (!r)
            return NULL;
    }
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, count, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("%ld\n", total);
    return total == 100 ? 0 : 1;
}
