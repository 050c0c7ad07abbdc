// A WAGI (CGI over WASI preview 1) test app. Its answers depend on PATH_INFO so one module
// covers the runtime's and router's integration tests.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const char *env_or_empty(const char *name)
{
    const char *value = getenv(name);
    return value ? value : "";
}

// Copies the request body from stdin to stdout unchanged (binary safe).
static void echo_stdin(void)
{
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0)
    {
        fwrite(buffer, 1, n, stdout);
    }
}

int main(int argc, char **argv)
{
    const char *path = env_or_empty("PATH_INFO");

    if (strcmp(path, "/status404") == 0)
    {
        printf("Status: 404 Not Found\nContent-Type: text/plain\n\nnot here: %s\n", path);
        return 0;
    }
    if (strcmp(path, "/redirect") == 0)
    {
        printf("Location: /elsewhere\n\n");
        return 0;
    }
    if (strcmp(path, "/noheaders") == 0)
    {
        // No CGI header block at all: the host must refuse this with a reason.
        printf("just a body without headers\n");
        return 0;
    }
    if (strcmp(path, "/log") == 0)
    {
        fprintf(stderr, "first log line\n");
        fprintf(stderr, "second log line\n");
        fprintf(stderr, "unterminated last line");
        printf("Content-Type: text/plain\n\nlogged\n");
        return 0;
    }
    if (strcmp(path, "/exit3") == 0)
    {
        printf("Content-Type: text/plain\n\nexiting with 3\n");
        fflush(stdout);
        exit(3);
    }
    if (strcmp(path, "/env") == 0)
    {
        printf("Content-Type: text/plain\n\n");
        for (int i = 0; i < argc; i++)
        {
            printf("argv[%d]=%s\n", i, argv[i]);
        }
        for (char **e = environ; *e; e++)
        {
            printf("env %s\n", *e);
        }
        return 0;
    }

    if (strcmp(path, "/header") == 0)
    {
        printf("X-Hello: world\n");
    }
    printf("Content-Type: text/plain\r\n\r\n");
    printf("Hello from %s %s?%s\n", env_or_empty("REQUEST_METHOD"), path, env_or_empty("QUERY_STRING"));
    fflush(stdout);
    echo_stdin();
    return 0;
}
