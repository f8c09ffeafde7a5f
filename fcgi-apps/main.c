/* The entry point of every mode executable: the Makefile compiles this file
 * once per mode with -DMODE_SYMBOL=mode_<name>, and links it with that mode
 * and common/ only. */
#include "serve.h"

extern const mode MODE_SYMBOL;

int main(int argc, char **argv) { return serve_main(&MODE_SYMBOL, argc, argv); }
