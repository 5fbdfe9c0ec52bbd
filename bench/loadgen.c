/* Closed-loop CoAP load generator: W confirmable GETs outstanding, one UDP socket.
 *
 *   loadgen -p PORT [-u /bench] [-w 16] [-d SECONDS | -n COUNT] [-W WARMUP_S]
 *           [-t TIMEOUT_MS] [-e abcd | -a] [-A ACCEPT] [-s]
 *
 * Every request has a fresh Message ID and a fresh 2-byte token. Every answer
 * must be an ACK 2.05 with that MID and token and the expected payload (-a: any
 * non-empty payload). A request unanswered after TIMEOUT_MS counts as lost and
 * its slot sends a new request (no retransmission: a lost request is a result).
 * -s spins on a non-blocking recv instead of sleeping in it: the generator's own
 * wake-up then stays out of the measured latency (it has a core of its own).
 * -A adds an Accept option (a Content-Format number) after the path.
 * Prints one JSON line. Traffic goes to 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#define MAX_WINDOW 1024
#define HIST_US 1000000 /* latency histogram: 1 µs bins up to 1 s */

struct slot {
    uint16_t mid, token;
    int64_t sent_ns;
    int busy;
};

static struct slot slots[MAX_WINDOW];
static int16_t by_mid[65536]; /* MID -> slot index + 1, 0: not outstanding */
static uint32_t hist[HIST_US + 1];
static uint8_t req[300];
static size_t req_len;
static uint16_t next_seq;
static long long n_ok, n_bad, n_lost, n_stray;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *msg)
{
    perror(msg);
    exit(2);
}

/* CON GET header with a 2-byte token, then one Uri-Path option per segment,
   then Accept when accept >= 0 (a request no server can answer from a kept copy
   of the plain GET's answer: the full request path every time). */
static void build_request(const char *path, int accept)
{
    size_t p = 6;
    req[0] = 0x42; /* version 1, CON, TKL 2 */
    req[1] = 0x01; /* GET */
    int last = 0;
    while (*path) {
        while (*path == '/')
            path++;
        size_t n = strcspn(path, "/");
        if (n == 0)
            break;
        if (n > 12 || p + 1 + n > sizeof req) {
            fprintf(stderr, "loadgen: path segments must be 1-12 bytes\n");
            exit(2);
        }
        req[p++] = (uint8_t)(((11 - last) << 4) | n); /* Uri-Path is option 11 */
        last = 11;
        memcpy(req + p, path, n);
        p += n;
        path += n;
    }
    if (accept >= 0) {
        req[p++] = (uint8_t)(((17 - last) << 4) | (accept ? 1 : 0)); /* Accept is option 17 */
        if (accept)
            req[p++] = (uint8_t)accept;
    }
    req_len = p;
}

static void send_one(int fd, int i)
{
    struct slot *s = &slots[i];
    uint16_t seq = next_seq++;
    /* MID and token both follow the sequence: unique among 65536 in flight */
    s->mid = seq;
    s->token = (uint16_t)(seq * 40503u + 1); /* a different bit pattern from the MID */
    req[2] = s->mid >> 8;
    req[3] = s->mid & 0xFF;
    req[4] = s->token >> 8;
    req[5] = s->token & 0xFF;
    by_mid[s->mid] = (int16_t)(i + 1);
    s->busy = 1;
    s->sent_ns = now_ns();
    if (send(fd, req, req_len, 0) != (ssize_t)req_len && errno != ECONNREFUSED)
        die("loadgen: send");
}

/* Offset of the payload after the options, or -1 for a malformed message. */
static int payload_offset(const uint8_t *b, int n, int p)
{
    while (p < n) {
        if (b[p] == 0xFF)
            return p + 1 < n ? p + 1 : -1;
        int d = b[p] >> 4, l = b[p] & 15;
        p++;
        if (d == 15 || l == 15)
            return -1;
        p += d == 13 ? 1 : d == 14 ? 2 : 0;
        if (l == 13) {
            if (p >= n)
                return -1;
            l = b[p] + 13;
            p++;
        } else if (l == 14) {
            if (p + 1 >= n)
                return -1;
            l = ((b[p] << 8) | b[p + 1]) + 269;
            p += 2;
        }
        p += l;
    }
    return p == n ? n : -1;
}

static int valid(const uint8_t *b, int n, const struct slot *s, const char *expect, int any)
{
    if (n < 6 || b[0] != 0x62 || b[1] != 0x45) /* version 1, ACK, TKL 2; 2.05 */
        return 0;
    if (((b[4] << 8) | b[5]) != s->token)
        return 0;
    int off = payload_offset(b, n, 6);
    if (off < 0 || off == n)
        return 0;
    if (any)
        return 1;
    size_t len = strlen(expect);
    return (size_t)(n - off) == len && memcmp(b + off, expect, len) == 0;
}

static long long percentile(long long total, double q)
{
    long long want = (long long)(q * total + 0.5), seen = 0;
    if (total == 0)
        return 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i <= HIST_US; i++) {
        seen += hist[i];
        if (seen >= want)
            return i;
    }
    return HIST_US;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    int port = 0, window = 16, timeout_ms = 200, any = 0, spin = 0, accept = -1, opt;
    double duration = 0, warmup = 0;
    long long count = 0;
    const char *path = "/bench", *expect = "abcd";
    while ((opt = getopt(argc, argv, "p:u:w:d:n:W:t:e:A:as")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'u': path = optarg; break;
        case 'w': window = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'n': count = atoll(optarg); break;
        case 'W': warmup = atof(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'e': expect = optarg; break;
        case 'A': accept = atoi(optarg); break;
        case 'a': any = 1; break;
        case 's': spin = 1; break;
        default: return 2;
        }
    }
    /* Bounded in count or time, always: a run never goes on by itself */
    if (port <= 0 || window < 1 || window > MAX_WINDOW || (duration <= 0 && count <= 0) ||
        duration > 600 || timeout_ms < 1 || accept > 255) {
        fprintf(stderr, "loadgen: need -p PORT, -w 1..%d, -d 0..600 or -n COUNT\n", MAX_WINDOW);
        return 2;
    }
    if (duration <= 0)
        duration = 600;
    build_request(path, accept);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("loadgen: socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* connect(): the kernel drops datagrams from anyone else, send() needs no address */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("loadgen: connect");
    /* A blocking recv that wakes up now and then to look for timed-out requests */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    srand((unsigned)now_ns());
    next_seq = (uint16_t)rand();

    int64_t timeout_ns = (int64_t)timeout_ms * 1000000;
    int64_t t0 = now_ns(), measure_from = t0 + (int64_t)(warmup * 1e9);
    int64_t stop_at = measure_from + (int64_t)(duration * 1e9), last_scan = t0;
    int measuring = warmup <= 0, outstanding = 0;
    long long issued = 0;
    double cpu0 = cpu_s();
    if (measuring)
        measure_from = t0;
    for (int i = 0; i < window && (count <= 0 || issued < count); i++, issued++, outstanding++)
        send_one(fd, i);

    uint8_t buf[1500];
    while (outstanding > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, spin ? MSG_DONTWAIT : 0);
        int64_t t = now_ns();
        if (!measuring && t >= measure_from) {
            /* Warm-up over: forget what happened so far */
            measuring = 1;
            measure_from = t;
            stop_at = t + (int64_t)(duration * 1e9);
            n_ok = n_bad = n_lost = n_stray = 0;
            memset(hist, 0, sizeof hist);
            cpu0 = cpu_s();
        }
        int more = t < stop_at && (count <= 0 || issued < count);
        if (n >= 4) {
            int i = by_mid[(buf[2] << 8) | buf[3]] - 1;
            if (i < 0) {
                n_stray++; /* a late answer to a lost request, or garbage */
            } else {
                struct slot *s = &slots[i];
                by_mid[s->mid] = 0;
                s->busy = 0;
                outstanding--;
                if (valid(buf, (int)n, s, expect, any)) {
                    n_ok++;
                    int64_t us = (t - s->sent_ns) / 1000;
                    hist[us < HIST_US ? us : HIST_US]++;
                } else {
                    n_bad++;
                }
                if (more) {
                    send_one(fd, i);
                    issued++;
                    outstanding++;
                }
            }
        } else if (n >= 0) {
            n_stray++;
        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
            die("loadgen: recv");
        }
        if (t - last_scan >= 10000000 || (n < 0 && !spin)) {
            last_scan = t;
            for (int i = 0; i < window; i++) {
                struct slot *s = &slots[i];
                if (!s->busy || t - s->sent_ns < timeout_ns)
                    continue;
                by_mid[s->mid] = 0;
                s->busy = 0;
                outstanding--;
                n_lost++;
                if (more) {
                    send_one(fd, i);
                    issued++;
                    outstanding++;
                }
            }
        }
        if (t - t0 > (int64_t)(warmup + duration + 30) * 1000000000LL)
            break; /* belt and braces: never outlive the run by much */
    }
    int64_t t_end = now_ns();
    double elapsed = (t_end - measure_from) / 1e9;
    long long done = n_ok + n_bad + n_lost;
    double cpu = cpu_s() - cpu0;
    printf("{\"window\": %d, \"requests\": %lld, \"ok\": %lld, \"bad\": %lld, \"lost\": %lld, "
           "\"stray\": %lld, \"elapsed_s\": %.4f, \"req_per_s\": %.1f, \"p50_us\": %lld, "
           "\"p99_us\": %lld, \"client_cpu_us_per_req\": %.3f}\n",
           window, done, n_ok, n_bad, n_lost, n_stray, elapsed,
           elapsed > 0 ? n_ok / elapsed : 0.0, percentile(n_ok, 0.50), percentile(n_ok, 0.99),
           done ? cpu * 1e6 / done : 0.0);
    close(fd);
    return 0;
}
