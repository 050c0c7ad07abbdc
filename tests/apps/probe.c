// Probes what the sandbox allows: the tests expect every filesystem attempt to fail and clocks,
// randomness and sleeping to work.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    printf("Content-Type: text/plain\n\n");

    FILE *f = fopen("/etc/passwd", "r");
    printf("fopen /etc/passwd: %s\n", f ? "opened" : strerror(errno));
    f = fopen("probe-output.txt", "w");
    printf("fopen for writing: %s\n", f ? "opened" : strerror(errno));
    DIR *d = opendir(".");
    printf("opendir .: %s\n", d ? "opened" : strerror(errno));

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("realtime after 2020: %s\n", now.tv_sec > 1577836800 ? "yes" : "no");

    unsigned char random_bytes[16] = {0};
    int random_ok = getentropy(random_bytes, sizeof random_bytes) == 0;
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof random_bytes; i++) nonzero |= random_bytes[i];
    printf("getentropy: %s\n", random_ok && nonzero ? "ok" : "failed");

    struct timespec before, after, pause = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long slept_ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    printf("slept at least 20 ms: %s\n", slept_ms >= 19 ? "yes" : "no");
    return 0;
}
