/*
 * notes1.c - version 1 of a to-do list whose document is the program
 * itself (examples/document/doc.c runs it): the notes live in its memory,
 * "quit" asks the host to save the whole program (a snapshot is the
 * file, there is no other data format), and opening the file again
 * continues after that call, on either CPU type.
 * export_data hands a newer version the notes ("x|text" lines).
 */
#include <stdio.h>
#include <string.h>

__attribute__((import_module("doc"), import_name("save"))) void doc_save(void);

#define MAXN 64
static struct { char text[72]; int done; } notes[MAXN];
static int n;
static char data[MAXN * 76];

__attribute__((export_name("export_data"))) int export_data(void)
{
    int len = 0;
    for (int i = 0; i < n; i++)
        len += snprintf(data + len, sizeof data - (size_t)len, "%c|%s\n",
                        notes[i].done ? 'x' : ' ', notes[i].text);
    return len;
}

__attribute__((export_name("export_ptr"))) char *export_ptr(void)
{
    return data;
}

static int number(const char *s)
{
    int k = 0;
    while (*s >= '0' && *s <= '9')
        k = k * 10 + (*s++ - '0');
    return *s || k < 1 || k > n ? 0 : k;
}

int main(void)
{
    setvbuf(stdin, NULL, _IONBF, 0);        /* nothing read ahead into the document */
    printf("notes 1.0: add TEXT, done N, del N, list, quit\n");
    char line[128];
    for (;;) {
        printf("> ");
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin))
            strcpy(line, "quit");
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "add ", 4) && line[4]) {
            if (n == MAXN) {
                printf("full\n");
                continue;
            }
            snprintf(notes[n].text, sizeof notes[n].text, "%s", line + 4);
            notes[n++].done = 0;
            printf("added %d\n", n);
        } else if (!strcmp(line, "list")) {
            for (int i = 0; i < n; i++)
                printf("%2d [%c] %s\n", i + 1, notes[i].done ? 'x' : ' ', notes[i].text);
            printf("(%d notes)\n", n);
        } else if (!strncmp(line, "done ", 5) && number(line + 5)) {
            notes[number(line + 5) - 1].done = 1;
            printf("done %d\n", number(line + 5));
        } else if (!strncmp(line, "del ", 4) && number(line + 4)) {
            int k = number(line + 4) - 1;
            memmove(&notes[k], &notes[k + 1], (size_t)(n - k - 1) * sizeof notes[0]);
            n--;
            printf("deleted\n");
        } else if (!strcmp(line, "quit")) {
            printf("saving\n");
            fflush(stdout);
            doc_save();
            clearerr(stdin);                /* the end of this input is not the next one's */                     /* the program stops here, saved */
            printf("welcome back: %d notes\n", n);
        } else if (line[0]) {
            printf("? add TEXT, done N, del N, list, quit\n");
        }
    }
}
