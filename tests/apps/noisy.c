// Writes far more stderr than a router log should take: 1,000 lines of 200 characters and one of 20,000, then
// answers. The router must rate-limit and cut these lines in its own log.
#include <stdio.h>
#include <string.h>

int main(void)
{
    static char line[20001];
    memset(line, 'n', 200);
    line[200] = 0;
    for (int i = 0; i < 1000; i++) fprintf(stderr, "noise %d %s\n", i, line);
    memset(line, 'L', 20000);
    line[20000] = 0;
    fprintf(stderr, "long %s\n", line);
    printf("Content-Type: text/plain\n\nnoisy done\n");
    return 0;
}
