// A small static file server in the WAGI style: serves the file at PATH_INFO (below its route) from the component's
// preopened files, lists a directory, answers 404 for what is missing. Uses only what wasi-libc's fopen, stat and
// readdir call, as third-party WAGI file servers do.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html";
    if (strcmp(dot, ".txt") == 0) return "text/plain";
    if (strcmp(dot, ".css") == 0) return "text/css";
    if (strcmp(dot, ".js") == 0) return "application/javascript";
    if (strcmp(dot, ".json") == 0) return "application/json";
    return "application/octet-stream";
}

static int not_found(const char *path, int err) {
    printf("Status: 404 Not Found\nContent-Type: text/plain\n\nnot found: %s (%s)\n", path, strerror(err));
    return 0;
}

int main(void) {
    const char *info = getenv("PATH_INFO");
    if (info == NULL || info[0] == '\0') info = "/";
    char path[4096];
    snprintf(path, sizeof path, "%s%s", info[0] == '/' ? "" : "/", info);

    struct stat st;
    if (stat(path, &st) != 0) return not_found(path, errno);

    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir == NULL) return not_found(path, errno);
        printf("Content-Type: text/plain\n\n");
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
            printf("%s%s\n", entry->d_name, entry->d_type == DT_DIR ? "/" : "");
        }
        closedir(dir);
        return 0;
    }

    FILE *file = fopen(path, "rb");
    if (file == NULL) return not_found(path, errno);
    printf("Content-Type: %s\nContent-Length: %lld\n\n", content_type(path), (long long)st.st_size);
    char buffer[8192];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) fwrite(buffer, 1, n, stdout);
    fclose(file);
    return 0;
}
