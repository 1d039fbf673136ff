/*
 * notes2.c - version 2 of notes1.c's to-do list: notes have a priority
 * ("add! TEXT" is urgent) and the list shows the urgent ones first.  A
 * version 1 document is upgraded by doc.c --upgrade: the old program is
 * asked for its data (its export_data) and this one imports it at its
 * start (doc.old_data), then is saved as the document.
 */
#include <stdio.h>
#include <string.h>

__attribute__((import_module("doc"), import_name("save"))) void doc_save(void);
__attribute__((import_module("doc"), import_name("old_data"))) int doc_old_data(char *buf, int cap);

#define MAXN 64
static struct { char text[72]; int done, urgent; } notes[MAXN];
static int n;
static char data[MAXN * 80];

/* for the next version: "x!|text" lines (x: done, !: urgent) */
__attribute__((export_name("export_data"))) int export_data(void)
{
    int len = 0;
    for (int i = 0; i < n; i++)
        len += snprintf(data + len, sizeof data - (size_t)len, "%c%c|%s\n",
                        notes[i].done ? 'x' : ' ', notes[i].urgent ? '!' : ' ', notes[i].text);
    return len;
}

__attribute__((export_name("export_ptr"))) char *export_ptr(void)
{
    return data;
}

/* version 1's lines: "x|text" */
static void import_v1(char *p)
{
    while (*p && n < MAXN) {
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (p[0] && p[1] == '|') {
            notes[n].done = p[0] == 'x';
            notes[n].urgent = 0;
            snprintf(notes[n].text, sizeof notes[n].text, "%s", p + 2);
            n++;
        }
        p = nl + 1;
    }
}

static int number(const char *s)
{
    int k = 0;
    while (*s >= '0' && *s <= '9')
        k = k * 10 + (*s++ - '0');
    return *s || k < 1 || k > n ? 0 : k;
}

static void add(const char *text, int urgent)
{
    if (n == MAXN) {
        printf("full\n");
        return;
    }
    snprintf(notes[n].text, sizeof notes[n].text, "%s", text);
    notes[n].done = 0;
    notes[n++].urgent = urgent;
    printf("added %d%s\n", n, urgent ? " (urgent)" : "");
}

int main(void)
{
    setvbuf(stdin, NULL, _IONBF, 0);
    int len = doc_old_data(data, (int)sizeof data - 1);
    if (len > 0) {
        data[len] = 0;
        import_v1(data);
        printf("notes 2.0: imported %d notes from an older version\n", n);
    }
    printf("notes 2.0: add TEXT, add! TEXT (urgent), done N, del N, list, quit\n");
    char line[128];
    for (;;) {
        printf("> ");
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin))
            strcpy(line, "quit");
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "add ", 4) && line[4]) {
            add(line + 4, 0);
        } else if (!strncmp(line, "add! ", 5) && line[5]) {
            add(line + 5, 1);
        } else if (!strcmp(line, "list")) {
            int todo = 0;
            for (int pass = 1; pass >= 0; pass--)
                for (int i = 0; i < n; i++)
                    if (notes[i].urgent == pass)
                        printf("%2d [%c]%s %s\n", i + 1, notes[i].done ? 'x' : ' ',
                               notes[i].urgent ? " !" : "  ", notes[i].text);
            for (int i = 0; i < n; i++)
                todo += !notes[i].done;
            printf("(%d notes, %d to do)\n", n, todo);
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
            clearerr(stdin);                /* the end of this input is not the next one's */
            printf("welcome back to notes 2.0: %d notes\n", n);
        } else if (line[0]) {
            printf("? add TEXT, add! TEXT, done N, del N, list, quit\n");
        }
    }
}
