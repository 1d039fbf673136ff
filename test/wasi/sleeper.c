/* sleeper.c - says so, then sleeps in one long host call (poll_oneoff):
   the second SIGINT must end gate even while the first one's stop is
   still waiting for the call to return (test/run-cli.sh). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("sleeping\n");
    fflush(stdout);
    sleep(600);
    printf("woke up\n");
    return 0;
}
