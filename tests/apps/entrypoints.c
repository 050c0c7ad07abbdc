// A WAGI module with several exports: _start (main), an 'entrypoint' export, and _routes (WAGI dynamic routes)
// naming two more, one of them a wildcard.
#include <stdio.h>
#include <stdlib.h>

static void answer(const char *who) {
    const char *info = getenv("PATH_INFO");
    const char *route = getenv("X_MATCHED_ROUTE");
    printf("Content-Type: text/plain\n\n%s PATH_INFO=%s X_MATCHED_ROUTE=%s\n", who, info ? info : "", route ? route : "");
    fflush(stdout);
}

int main(void) {
    answer("start");
    return 0;
}

__attribute__((export_name("custom_entry"))) void custom_entry(void) { answer("custom_entry"); }

__attribute__((export_name("hello"))) void hello(void) { answer("hello"); }

__attribute__((export_name("files"))) void files(void) { answer("files"); }

__attribute__((export_name("_routes"))) void routes(void) {
    printf("/hello hello\n\n/files/... files\n");
    fflush(stdout);
}
