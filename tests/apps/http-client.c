// Outbound HTTP through the deislabs wasi_experimental_http ABI, declared here exactly as its raw.rs does.
// The request body (stdin) says what to do, one "key=value" per line:
//   url=...  method=GET  header=Name:Value (repeatable)  body=...  count=N (calls made without closing)
//   getheader=name  smallbuf=1 (header_get into a 1-byte buffer)  hostile=1 (bad pointers and handles)
// It prints what it saw as text/plain, so tests can check status, headers, body and error codes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wasi_experimental_http"), import_name(name)))

IMPORT("req") uint32_t http_req(const char *url, size_t url_len, const char *method, size_t method_len,
                                const char *headers, size_t headers_len, const uint8_t *body, size_t body_len,
                                uint16_t *status, uint32_t *handle);
IMPORT("close") uint32_t http_close(uint32_t handle);
IMPORT("header_get") uint32_t http_header_get(uint32_t handle, const char *name, size_t name_len, char *buf,
                                              size_t buf_len, size_t *written);
IMPORT("headers_get_all") uint32_t http_headers_get_all(uint32_t handle, char *buf, size_t buf_len, size_t *written);
IMPORT("body_read") uint32_t http_body_read(uint32_t handle, uint8_t *buf, size_t buf_len, size_t *written);

static char input[65536];
static char url[8192], method[64] = "GET", headers[8192], body[16384], getheader[256];
static int count = 1, smallbuf = 0, hostile = 0;

static void parse_input(void)
{
    size_t n = fread(input, 1, sizeof input - 1, stdin);
    input[n] = 0;
    for (char *line = strtok(input, "\n"); line; line = strtok(NULL, "\n")) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        if (!strncmp(line, "url=", 4)) snprintf(url, sizeof url, "%s", line + 4);
        else if (!strncmp(line, "method=", 7)) snprintf(method, sizeof method, "%s", line + 7);
        else if (!strncmp(line, "header=", 7)) { strncat(headers, line + 7, sizeof headers - strlen(headers) - 2); strcat(headers, "\n"); }
        else if (!strncmp(line, "body=", 5)) snprintf(body, sizeof body, "%s", line + 5);
        else if (!strncmp(line, "count=", 6)) count = atoi(line + 6);
        else if (!strncmp(line, "getheader=", 10)) snprintf(getheader, sizeof getheader, "%s", line + 10);
        else if (!strncmp(line, "smallbuf=", 9)) smallbuf = atoi(line + 9);
        else if (!strncmp(line, "hostile=", 8)) hostile = atoi(line + 8);
    }
}

static void run_hostile(void)
{
    uint16_t status = 0;
    uint32_t handle = 0;
    size_t written = 0;
    uint8_t buf[16];
    // Far outside linear memory, and a length that wraps around.
    printf("req bad url pointer: %u\n", http_req((const char *)0xFFFFFF00u, 1000, "GET", 3, "", 0, 0, 0, &status, &handle));
    printf("req wrapping length: %u\n", http_req(url, 0xFFFFFFFFu, "GET", 3, "", 0, 0, 0, &status, &handle));
    printf("req bad status pointer: %u\n", http_req(url, strlen(url), "GET", 3, "", 0, 0, 0, (uint16_t *)0xFFFFFFF0u, &handle));
    printf("req invalid utf8: %u\n", http_req("\xff\xfe", 2, "GET", 3, "", 0, 0, 0, &status, &handle));
    printf("req invalid method: %u\n", http_req(url, strlen(url), "G E T", 5, "", 0, 0, 0, &status, &handle));
    printf("req invalid header: %u\n", http_req(url, strlen(url), "GET", 3, "bad header\n", 11, 0, 0, &status, &handle));
    printf("req invalid url: %u\n", http_req("not a url", 9, "GET", 3, "", 0, 0, 0, &status, &handle));
    printf("body_read bad handle: %u\n", http_body_read(12345, buf, sizeof buf, &written));
    printf("header_get bad handle: %u\n", http_header_get(12345, "a", 1, (char *)buf, sizeof buf, &written));
    printf("headers_get_all bad handle: %u\n", http_headers_get_all(12345, (char *)buf, sizeof buf, &written));
    printf("close bad handle: %u\n", http_close(12345));
}

int main(void)
{
    parse_input();
    printf("Content-Type: text/plain\n\n");
    if (hostile) {
        run_hostile();
        return 0;
    }
    uint32_t handles[64];
    int opened = 0;
    for (int i = 0; i < count && i < 64; i++) {
        uint16_t status = 0;
        uint32_t handle = 0;
        uint32_t err = http_req(url, strlen(url), method, strlen(method), headers, strlen(headers),
                                (const uint8_t *)body, strlen(body), &status, &handle);
        printf("call %d: error=%u status=%u\n", i + 1, err, err == 0 ? status : 0);
        if (err != 0) continue;
        handles[opened++] = handle;
        if (i > 0) continue;

        static char value[4096];
        size_t written = 0;
        if (getheader[0]) {
            uint32_t herr = http_header_get(handle, getheader, strlen(getheader), value, smallbuf ? 1 : sizeof value - 1, &written);
            if (herr == 0) { value[written] = 0; printf("header %s: %s\n", getheader, value); }
            else printf("header %s: error=%u\n", getheader, herr);
        }
        static char all[16384];
        if (http_headers_get_all(handle, all, sizeof all - 1, &written) == 0) {
            all[written] = 0;
            printf("headers-bytes: %zu\n", written);
        }
        // Small reads on purpose: the body arrives over several body_read calls, the last one writing 0.
        size_t total = 0;
        uint8_t chunk[100];
        printf("body: ");
        for (;;) {
            uint32_t berr = http_body_read(handle, chunk, sizeof chunk, &written);
            if (berr != 0) { printf("[body_read error=%u]", berr); break; }
            if (written == 0) break;
            if (total < 2048) fwrite(chunk, 1, written, stdout);
            total += written;
        }
        printf("\nbody-bytes: %zu\n", total);
    }
    for (int i = 0; i < opened; i++) {
        uint32_t cerr = http_close(handles[i]);
        if (cerr != 0) printf("close error=%u\n", cerr);
    }
    if (opened > 0) printf("close again: %u\n", http_close(handles[0]));
    return 0;
}
