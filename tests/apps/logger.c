// A WAGI test app for app logs: it writes to stderr on every request, and on demand floods stderr,
// traps or never finishes, so the platform's log collection, caps and failure reasons can be checked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or_empty(const char *name)
{
    const char *value = getenv(name);
    return value ? value : "";
}

int main(void)
{
    const char *path = env_or_empty("PATH_INFO");
    const char *query = env_or_empty("QUERY_STRING");

    if (strcmp(path, "/flood") == 0)
    {
        // QUERY_STRING is the number of megabytes, written as 64-byte lines.
        long mb = strtol(query, NULL, 10);
        // Buffered, as a chatty program's stderr usually is: 64 KiB per write, not one write per line.
        static char buffer[64 * 1024];
        setvbuf(stderr, buffer, _IOFBF, sizeof buffer);
        char line[64];
        memset(line, 'f', sizeof line);
        line[sizeof line - 1] = '\n';
        for (long i = 0; i < mb * 1024L * 1024L / (long)sizeof line; i++)
        {
            fwrite(line, 1, sizeof line, stderr);
        }
        fflush(stderr);
        printf("Content-Type: text/plain\n\nflooded %ld MB\n", mb);
        return 0;
    }
    if (strcmp(path, "/trap") == 0)
    {
        fprintf(stderr, "about to trap\n");
        fflush(stderr);
        __builtin_trap();
    }
    if (strcmp(path, "/hang") == 0)
    {
        fprintf(stderr, "about to hang\n");
        fflush(stderr);
        volatile unsigned long spin = 0;
        for (;;)
        {
            spin++;
        }
    }
    fprintf(stderr, "token=%s\n", query);
    printf("Content-Type: text/plain\n\nlogged %s\n", query);
    return 0;
}
