/* picolibc's stdio onto the CONSOLE register: printf, puts, putchar write one byte per store, unbuffered. */
#include <stdio.h>

#include "soc.h"

static int console_putc(char c, FILE *file)
{
    (void)file;
    *(volatile unsigned *)SOC_CONSOLE = (unsigned char)c;
    return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console;
FILE *const stderr = &console;
FILE *const stdin = NULL;
