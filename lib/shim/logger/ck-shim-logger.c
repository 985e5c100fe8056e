/*
 * ck-shim-logger: the container logger containerd shims launch through a `binary://` stdio URI, so that a
 * container's output is written while no engine runs, with no Node process per container.
 *
 * The shim starts it with fd 3 = the container's stdout pipe, fd 4 = its stderr pipe, fd 5 = a "ready" pipe the
 * shim waits on until it is closed, env CONTAINER_ID / CONTAINER_NAMESPACE, and the URI's query as argument pairs
 * in no set order: `path <log file>` (required) and `max <bytes>` (rotation size, default 10 MiB).
 *
 * Line format (like docker's json-file driver), one JSON object per line of output:
 *   {"time":"2026-11-28T04:26:09.616123456Z","stream":"stdout","log":"tick 7\n"}
 * `time` is RFC 3339 with nanoseconds in UTC, taken when the line is read; `stream` is stdout or stderr; `log` is
 * the line with its newline. A line longer than 16 KiB is cut into several records, only the last one ending in
 * "\n" (as docker does); the cut falls between characters, never inside a UTF-8 sequence. The file is valid UTF-8
 * and every line valid JSON whatever the container prints: each byte that is not part of a well-formed UTF-8
 * sequence is written as U+FFFD (`\ufffd`), as Go's encoding/json and docker do; control characters, `"` and `\`
 * are escaped, and so are U+2028/U+2029 (as Go does). When the file reaches `max` bytes it is renamed to `<path>.1` (replacing an older one) and
 * a new file is started. Exits when both pipes are closed (SIGTERM is ignored: the shim sends it while the pipes
 * still hold output).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

struct stream {
  int fd;
  const char *name;
  char buf[LINE_MAX_BYTES];
  size_t len;
};

static const char *log_path;
static long long max_bytes = 10LL * 1024 * 1024;
static int log_fd = -1;
static long long log_size;
static char out[LINE_MAX_BYTES * 6 + 256];

static void open_log(void) {
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    perror("ck-shim-logger: open log");
    exit(1);
  }
  struct stat st;
  log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

static void rotate(void) {
  char old[4096];
  if (snprintf(old, sizeof old, "%s.1", log_path) >= (int)sizeof old) return;
  close(log_fd);
  rename(log_path, old);
  open_log();
}

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(log_fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return; /* a full disk must not block the container: drop the record */
    }
    p += w;
    n -= (size_t)w;
  }
}

/*
 * The length of the well-formed UTF-8 sequence at `p` (at most `n` bytes available), by the table of Unicode's
 * "Well-Formed UTF-8 Byte Sequences" (no overlongs, surrogates or code points over U+10FFFF), as Go's
 * utf8.DecodeRune judges it. 0: not well-formed; -1: a valid beginning cut short by the end of the data.
 */
static int utf8_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  int need;
  unsigned char lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) need = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else return 0;
  for (int i = 1; i < need; i++) {
    if ((size_t)i >= n) return -1;
    unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xbf;
    if (p[i] < lo_i || p[i] > hi_i) return 0;
  }
  return need;
}

/* Where to cut `len` bytes so that no UTF-8 sequence is split: before a well-formed but unfinished tail. */
static size_t char_boundary(const char *data, size_t len) {
  for (size_t back = 1; back <= 3 && back <= len; back++) {
    if (utf8_len((const unsigned char *)data + len - back, back) == -1) return len - back;
  }
  return len;
}

/* One JSON record for `len` bytes of `data`; `newline` adds the "\n" the line ended with. */
static void emit(const char *stream, const char *data, size_t len, int newline) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = (size_t)snprintf(out, 128, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ\",\"stream\":\"%s\",\"log\":\"",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, stream);
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len;) {
    const unsigned char *p = (const unsigned char *)data + i;
    unsigned char c = p[0];
    int seq = utf8_len(p, len - i);
    if (seq <= 0) {
      /* Each byte outside a well-formed sequence stands for itself: one replacement character (Go's rule). */
      memcpy(out + n, "\\ufffd", 6);
      n += 6;
      i++;
      continue;
    }
    if (seq > 1) {
      /* U+2028 and U+2029 end lines in JavaScript source: escaped, as Go's encoding/json does. */
      if (seq == 3 && c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
        memcpy(out + n, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
        n += 6;
      } else {
        memcpy(out + n, p, (size_t)seq);
        n += (size_t)seq;
      }
      i += (size_t)seq;
      continue;
    }
    i++;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if (c == '\r') {
      out[n++] = '\\';
      out[n++] = 'r';
    } else if (c == '\t') {
      out[n++] = '\\';
      out[n++] = 't';
    } else if (c == '\b') {
      out[n++] = '\\';
      out[n++] = 'b';
    } else if (c == '\f') {
      out[n++] = '\\';
      out[n++] = 'f';
    } else if (c < 0x20 || c == 0x7f) {
      /* Every other control character as \u00XX (JSON forbids them raw; DEL for readers that choke on it). */
      memcpy(out + n, "\\u00", 4);
      out[n + 4] = hex[c >> 4];
      out[n + 5] = hex[c & 0xf];
      n += 6;
    } else {
      out[n++] = (char)c;
    }
  }
  if (newline) {
    out[n++] = '\\';
    out[n++] = 'n';
  }
  memcpy(out + n, "\"}\n", 3);
  n += 3;
  if (log_size > 0 && log_size + (long long)n > max_bytes) rotate();
  write_all(out, n);
  log_size += (long long)n;
}

/* Reads what is there; emits each complete line. Returns 0 at EOF. */
static int drain(struct stream *s) {
  ssize_t r = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (r < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (r == 0) {
    if (s->len > 0) emit(s->name, s->buf, s->len, 0);
    s->len = 0;
    return 0;
  }
  s->len += (size_t)r;
  size_t start = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->buf[i] == '\n') {
      emit(s->name, s->buf + start, i - start, 1);
      start = i + 1;
    }
  }
  if (start == 0 && s->len == sizeof s->buf) {
    /* A line longer than the buffer: cut it between characters; an unfinished one (at most 3 bytes) waits. */
    size_t cut = char_boundary(s->buf, s->len);
    emit(s->name, s->buf, cut, 0);
    memmove(s->buf, s->buf + cut, s->len - cut);
    s->len -= cut;
  } else {
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
  }
  return 1;
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "path") == 0) log_path = argv[i + 1];
    else if (strcmp(argv[i], "max") == 0) max_bytes = atoll(argv[i + 1]);
  }
  if (log_path == NULL || max_bytes <= 0) {
    fprintf(stderr, "usage: ck-shim-logger path <file> [max <bytes>] (fds 3, 4: stdout, stderr; fd 5: ready)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  /* The shim closes its pipe ends and sends SIGTERM at once: dying then would lose what is still in the pipes.
   * EOF follows the close, and the shim SIGKILLs a logger that outstays its grace period anyway. */
  signal(SIGTERM, SIG_IGN);
  open_log();
  close(5); /* ready: the shim starts the container now */
  static struct stream streams[2] = {{3, "stdout", {0}, 0}, {4, "stderr", {0}, 0}};
  int open_count = 2;
  while (open_count > 0) {
    struct pollfd p[2];
    for (int i = 0; i < 2; i++) {
      p[i].fd = streams[i].fd;
      p[i].events = POLLIN;
      p[i].revents = 0;
    }
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (streams[i].fd < 0 || p[i].revents == 0) continue;
      if (p[i].revents & POLLNVAL) {
        streams[i].fd = -1;
        open_count--;
        continue;
      }
      if (!drain(&streams[i])) {
        close(streams[i].fd);
        streams[i].fd = -1;
        open_count--;
      }
    }
  }
  close(log_fd);
  return 0;
}
