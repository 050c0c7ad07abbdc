// Imports the wasi_experimental_http ABI but never calls it in practice: such a module must still upload and serve.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((import_module("wasi_experimental_http"), import_name("close"))) uint32_t http_close(uint32_t handle);

int main(void)
{
    printf("Content-Type: text/plain\n\nidle ok\n");
    // Never set by the platform, so the import stays unused while the linker cannot drop it.
    if (getenv("HTTP_IDLE_CALL_CLOSE_NEVER_SET")) printf("close: %u\n", http_close(1));
    return 0;
}
