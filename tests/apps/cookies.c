// Sets cookies for the shared apps domain, a parent of it and its own host, beside a host-only one: the router
// must pass only the host-only cookie and the one for the app's own host.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const char *host = getenv("HTTP_HOST");
    char own[256] = "";
    if (host != NULL) {
        strncpy(own, host, sizeof own - 1);
        char *colon = strchr(own, ':');
        if (colon != NULL) *colon = '\0';
    }
    printf("Content-Type: text/plain\n");
    printf("Set-Cookie: hostonly=1; Path=/; HttpOnly\n");
    printf("Set-Cookie: shared=stolen; Domain=apps.localhost; Path=/\n");
    printf("Set-Cookie: parent=stolen; Domain=.LOCALHOST\n");
    printf("Set-Cookie: own=1; Domain=%s\n", own);
    printf("\ncookies set\n");
    return 0;
}
