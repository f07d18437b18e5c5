/*
 * A SQLite query endpoint for `cowpool serve` (WAGI): the request body is SQL,
 * the response is the rows it returns, tab-separated, one per line.
 *
 * Built as a WASI reactor (build.sh):
 *   _initialize    the C runtime's constructors (every WASI reactor has it)
 *   cowpool_init   opens an in-memory database and loads the dataset: a few
 *                  MiB of rows generated from a fixed seed (SQLITE_ROWS in the
 *                  environment sets how many; default 40,000). Run once, as the
 *                  route's initializer, it becomes the snapshot every request
 *                  starts from.
 *   _start         one request: read SQL from stdin, run it, write a CGI
 *                  response. Without a snapshot it loads the dataset first.
 *
 * Each request sees the database exactly as cowpool_init left it: a request
 * that deletes every row changes nothing for the next one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite3.h"

/* Rows in the dataset: 40,000 (a few MiB), or SQLITE_ROWS from the environment
 * (a smaller dataset makes a light run whose heap still grows from 2 pages:
 * what a per-request command that does not snapshot pays). */
#define DEFAULT_ROWS 40000

static int dataset_rows(void) {
  const char *value = getenv("SQLITE_ROWS");
  if (value == NULL || *value == 0) return DEFAULT_ROWS;
  long n = strtol(value, NULL, 10);
  return n < 0 ? 0 : n > 1000000 ? 1000000 : (int)n;
}

static sqlite3 *db;

static uint32_t rng_state = 0x9e3779b9u;
static uint32_t next_random(void) {
  /* xorshift32: the same dataset on every build and run. */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static const char *const CATEGORIES[] = {"books", "garden", "kitchen", "tools", "toys", "music", "sports", "office"};

__attribute__((export_name("cowpool_init"))) int cowpool_init(void) {
  if (db != NULL) return 0;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
  if (sqlite3_exec(db,
                   "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, "
                   "price REAL NOT NULL, qty INTEGER NOT NULL);",
                   NULL, NULL, NULL) != SQLITE_OK)
    return 2;
  sqlite3_stmt *insert = NULL;
  if (sqlite3_prepare_v2(db, "INSERT INTO items(name, category, price, qty) VALUES (?, ?, ?, ?)", -1, &insert, NULL) !=
      SQLITE_OK)
    return 3;
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  char name[48];
  const int rows = dataset_rows();
  for (int i = 0; i < rows; i++) {
    uint32_t r = next_random();
    snprintf(name, sizeof name, "item-%05d-%08x", i, (unsigned)r);
    sqlite3_bind_text(insert, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, CATEGORIES[r % 8], -1, SQLITE_STATIC);
    sqlite3_bind_double(insert, 3, (double)(r % 100000) / 100.0);
    sqlite3_bind_int(insert, 4, (int)((r >> 8) % 500));
    if (sqlite3_step(insert) != SQLITE_DONE) return 4;
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT; CREATE INDEX items_category ON items(category);", NULL, NULL, NULL);
  return 0;
}

/* The response body is built first, so a failing statement can still set the status. */
static char *body;
static size_t body_len, body_cap;

static void append(const char *s, size_t n) {
  if (body_len + n + 1 > body_cap) {
    size_t cap = body_cap == 0 ? 4096 : body_cap;
    while (cap < body_len + n + 1) cap *= 2;
    body = realloc(body, cap);
    body_cap = cap;
  }
  memcpy(body + body_len, s, n);
  body_len += n;
}

static int row(void *header_done, int columns, char **values, char **names) {
  int *done = header_done;
  if (!*done) {
    for (int i = 0; i < columns; i++) {
      if (i > 0) append("\t", 1);
      append(names[i], strlen(names[i]));
    }
    append("\n", 1);
    *done = 1;
  }
  for (int i = 0; i < columns; i++) {
    if (i > 0) append("\t", 1);
    const char *v = values[i] != NULL ? values[i] : "NULL";
    append(v, strlen(v));
  }
  append("\n", 1);
  return 0;
}

__attribute__((export_name("_start"))) void serve_request(void) {
  if (cowpool_init() != 0) {
    printf("Status: 500\nContent-Type: text/plain\n\ncould not load the dataset\n");
    fflush(stdout);
    return;
  }
  size_t cap = 4096, len = 0;
  char *sql = malloc(cap);
  for (;;) {
    if (len + 1024 + 1 > cap) sql = realloc(sql, cap *= 2);
    ssize_t n = read(0, sql + len, cap - len - 1);
    if (n <= 0) break;
    len += (size_t)n;
  }
  sql[len] = 0;
  int header_done = 0;
  char *error = NULL;
  if (sqlite3_exec(db, sql, row, &header_done, &error) != SQLITE_OK) {
    printf("Status: 400\nContent-Type: text/plain\n\n%s\n", error != NULL ? error : "error");
    fflush(stdout); /* a reactor's _start returning runs no exit handlers: flush here */
    return;
  }
  printf("Content-Type: text/tab-separated-values\n\n");
  fwrite(body != NULL ? body : "", 1, body_len, stdout);
  fflush(stdout);
}
