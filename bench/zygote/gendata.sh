#!/usr/bin/env bash
# Writes the data set bench/zygote/people.c embeds: N lines of
# "name,city,age,score", deterministic (an LCG), as a C string literal.
#   bench/zygote/gendata.sh N > data.c
n=${1:-200000}
awk -v n="$n" 'BEGIN {
    s = 12345
    split("ka ri to mo na se lu vi de po an el or is un", syl, " ")
    split("Lisbon Oslo Quito Hanoi Lagos Perth Cusco Turku Split Ghent Porto Malmo Izmir Davao Leeds Brno", city, " ")
    printf "const char people_csv[] =\n"
    for (i = 0; i < n; i++) {
        name = ""
        s = (s * 1103515245 + 12345) % 2147483648; k = 2 + int(s / 65536) % 3
        for (j = 0; j < k; j++) { s = (s * 1103515245 + 12345) % 2147483648; name = name syl[1 + int(s / 65536) % 15] }
        s = (s * 1103515245 + 12345) % 2147483648; c = city[1 + int(s / 65536) % 16]
        s = (s * 1103515245 + 12345) % 2147483648; age = 18 + int(s / 65536) % 70
        s = (s * 1103515245 + 12345) % 2147483648; sc = (int(s / 256) % 100000) / 1000.0
        printf "\"%s%d,%s,%d,%.3f\\n\"\n", name, i, c, age, sc
    }
    printf ";\nconst unsigned people_len = sizeof people_csv - 1;\n"
}'
