// Writes far more stderr than a router log should take: one line of 20,000 characters, then 1,000 of 200, then
// answers. The router must rate-limit and cut these lines in its own log. The long line comes first, while the
// router's per-route rate limit still has tokens, so the cut is seen whatever the timing.
#include <stdio.h>
#include <string.h>

int main(void)
{
    static char line[20001];
    memset(line, 'L', 20000);
    line[20000] = 0;
    fprintf(stderr, "long %s\n", line);
    memset(line, 'n', 200);
    line[200] = 0;
    for (int i = 0; i < 1000; i++) fprintf(stderr, "noise %d %s\n", i, line);
    printf("Content-Type: text/plain\n\nnoisy done\n");
    return 0;
}
