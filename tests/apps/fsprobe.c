// Tries to get out of, or change, its read-only preopened files and prints what each attempt got; the tests expect
// reads inside the tree to work and everything else to fail.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static void try_read(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        printf("read %s: %s\n", path, strerror(errno));
        return;
    }
    char buffer[64] = {0};
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    buffer[n] = '\0';
    char *nl = strchr(buffer, '\n');
    if (nl) *nl = '\0';
    printf("read %s: ok '%s'\n", path, buffer);
    fclose(f);
}

// Straight to the host: no wasi-libc path clean-up in between.
static void raw_open(const char *path) {
    __wasi_fd_t fd = 0;
    __wasi_errno_t e = __wasi_path_open(3, 0, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw %s: %d\n", path, e);
}

int main(void) {
    printf("Content-Type: text/plain\n\n");
    try_read("/static/sub/deep.txt");
    try_read("/static/../static/sub/deep.txt");
    try_read("/../../etc/passwd");
    try_read("../../../etc/passwd");
    try_read("/etc/passwd");
    try_read("/static/missing.txt");
    raw_open("static/sub/deep.txt");
    raw_open("../etc/passwd");
    raw_open("static/../../etc/passwd");
    raw_open("/etc/passwd");
    raw_open("static/sub/deep.txt/");

    FILE *w = fopen("/static/new.txt", "w");
    printf("write new: %s\n", w ? "opened" : strerror(errno));
    w = fopen("/static/sub/deep.txt", "a");
    printf("append existing: %s\n", w ? "opened" : strerror(errno));
    int fd = open("/static/sub/deep.txt", O_RDWR);
    printf("open rdwr: %s\n", fd >= 0 ? "opened" : strerror(errno));
    printf("mkdir: %s\n", mkdir("/static/newdir", 0755) == 0 ? "made" : strerror(errno));
    printf("unlink: %s\n", unlink("/static/sub/deep.txt") == 0 ? "removed" : strerror(errno));
    printf("rename: %s\n", rename("/static/sub/deep.txt", "/static/moved.txt") == 0 ? "renamed" : strerror(errno));
    printf("symlink: %s\n", symlink("/etc/passwd", "/static/link") == 0 ? "linked" : strerror(errno));
    printf("rmdir: %s\n", rmdir("/static/sub") == 0 ? "removed" : strerror(errno));

    fd = open("/static/sub/deep.txt", O_RDONLY);
    ssize_t written = write(fd, "x", 1);
    printf("write to read fd: %s\n", written >= 0 ? "written" : strerror(errno));
    char c[4] = {0};
    ssize_t got = pread(fd, c, 3, 1);
    printf("pread at 1: %zd '%s'\n", got, c);
    off_t end = lseek(fd, 0, SEEK_END);
    printf("seek end: %lld\n", (long long)end);
    close(fd);

    DIR *d = opendir("/static");
    int entries = 0;
    struct dirent *entry;
    while (d && (entry = readdir(d)) != NULL) entries++;
    printf("readdir /static: %d entries\n", entries);
    if (d) closedir(d);
    return 0;
}
