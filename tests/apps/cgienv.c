// Prints its argv and every environment variable, one per line: what a route hands a WAGI module.
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("Content-Type: text/plain\n\n");
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e != NULL; e++) printf("%s\n", *e);
    return 0;
}
