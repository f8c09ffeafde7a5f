/* The entry point of every mode executable: the Makefile compiles this file
 * once per mode with -DMODE_NAME="<name>". */
#include "serve.h"

int main(int argc, char **argv) { return serve_main(MODE_NAME, argc, argv); }
