// Answers with the status named in the query ("?204") and a body regardless, as a careless CGI program would:
// the router must send 204/205/304 without that body instead of failing.
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const char *query = getenv("QUERY_STRING");
    int code = query && *query ? atoi(query) : 200;
    if (code < 200 || code > 599) code = 200;
    printf("Status: %d\nContent-Type: text/plain\nX-Status-App: yes\n\nbody the status does not allow\n", code);
    return 0;
}
