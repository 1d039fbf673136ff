/* stdflags.c - sets O_NONBLOCK and O_APPEND on its standard output
   (fd_fdstat_set_flags) and reads them back: the program sees its own
   flags, while the host's stdout, shared with the shell, keeps its own
   (test/attacks.sh). */
#include <fcntl.h>
#include <stdio.h>

int main(void)
{
    int r = fcntl(1, F_SETFL, O_NONBLOCK | O_APPEND);
    int fl = fcntl(1, F_GETFL);
    printf("set %d, nonblock %d, append %d\n", r, (fl & O_NONBLOCK) != 0, (fl & O_APPEND) != 0);
    return 0;
}
