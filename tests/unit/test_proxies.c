/* Unit tests: TRUSTED_PROXIES (common/config.c) and the client address the
 * abuse limits count under (abuse_client_addr, common/abuse.c): a forged
 * X-Forwarded-For moves nothing unless the peer is a trusted proxy, and
 * then only the right-most untrusted entry counts. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "abuse.h"
#include "check.h"
#include "config.h"

static bool in(const char *list, const char *addr) { return config_proxy_in(list, addr, strlen(addr)); }

static const char *client(const char *remote, const char *xff) {
    static char buf[ABUSE_ADDR_MAX];
    return abuse_client_addr(remote, xff, buf);
}

int main(void) {
    char why[160];
    static const char *const good[] = {
        "",     "10.0.0.1", "10.0.0.0/8, 192.168.1.0/24",    " ::1 ,fd00::/8", "0.0.0.0/0",
        "::/0", "[::1]",    "1.2.3.4/32,::ffff:10.0.0.1/128"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char name[120];
        snprintf(name, sizeof name, "taken: \"%s\"", good[i]);
        CHECK(config_parse_proxies(good[i], why, sizeof why), name);
    }
    static const char *const bad[] = {"10.0.0",      "10.0.0.0/33",     "::/129",
                                      "10.0.0.0/",   "10.0.0.0/8x",     "localhost",
                                      "10.0.0.1/-1", "1.2.3.4 5.6.7.8", "10.0.0.0/0008"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[120];
        snprintf(name, sizeof name, "refused: \"%s\"", bad[i]);
        CHECK(!config_parse_proxies(bad[i], why, sizeof why) && strstr(why, "CIDR") != NULL, name);
    }
    /* CONFIG_PROXIES_MAX items exactly are taken; one more is not. */
    char list[64 * 12 + 16] = "";
    for (int i = 0; i < CONFIG_PROXIES_MAX; i++) {
        char item[16];
        snprintf(item, sizeof item, "%s10.0.0.%d", i ? "," : "", i);
        strcat(list, item);
    }
    CHECK(config_parse_proxies(list, why, sizeof why), "CONFIG_PROXIES_MAX blocks are taken");
    strcat(list, ",10.0.1.1");
    CHECK(!config_parse_proxies(list, why, sizeof why) && strstr(why, "more than") != NULL,
          "one more is refused");

    /* Matching, at the prefix's edge. */
    CHECK(in("10.0.0.0/8", "10.255.255.255") && !in("10.0.0.0/8", "11.0.0.0"),
          "/8: the last address in, the next out");
    CHECK(in("192.168.1.128/25", "192.168.1.128") && !in("192.168.1.128/25", "192.168.1.127"),
          "/25: a prefix not on a byte boundary");
    CHECK(in("10.0.0.1", "10.0.0.1") && !in("10.0.0.1", "10.0.0.2"), "a bare address is /32");
    CHECK(in("10.0.0.0/8", "::ffff:10.1.2.3"), "an IPv4-mapped IPv6 address matches its IPv4 block");
    CHECK(in("fd00::/8", "fdff::1") && !in("fd00::/8", "fe00::1"), "IPv6 blocks");
    CHECK(!in("::/0", "10.0.0.1") && !in("0.0.0.0/0", "::1"), "families do not mix");
    CHECK(!in("", "10.0.0.1") && !in("10.0.0.0/8", "garbage"), "empty list; not an address");

    /* The client address, with no trusted proxy: REMOTE_ADDR, whatever the
     * header says. */
    g_config.trusted_proxies = "";
    CHECK_STR(client("127.0.0.1", "6.6.6.6"), "127.0.0.1",
              "untrusted peer: a forged X-Forwarded-For is ignored");
    CHECK(client(NULL, "6.6.6.6") == NULL, "no peer address: none");
    g_config.trusted_proxies = "127.0.0.0/8, 10.0.0.0/8";
    CHECK_STR(client("127.0.0.1", NULL), "127.0.0.1", "trusted peer, no header: the peer");
    CHECK_STR(client("127.0.0.1", "6.6.6.6"), "6.6.6.6", "trusted peer: its entry is the client");
    CHECK_STR(client("127.0.0.1", "1.1.1.1, 6.6.6.6"), "6.6.6.6",
              "the right-most untrusted entry; the client's own entries left of it are not read");
    CHECK_STR(client("127.0.0.1", "1.1.1.1,6.6.6.6 , 10.1.1.1"), "6.6.6.6", "trusted hops are skipped");
    CHECK_STR(client("127.0.0.1", "10.1.1.1, 127.0.0.9"), "10.1.1.1",
              "every entry trusted: the left-most one");
    CHECK_STR(client("127.0.0.1", "6.6.6.6, junk"), "127.0.0.1",
              "an entry that is not an address stops at the proxy that wrote it");
    CHECK_STR(client("127.0.0.1", "6.6.6.6, junk, 10.2.2.2"), "10.2.2.2", "... whichever hop it is");
    CHECK_STR(client("6.6.6.6", "1.1.1.1"), "6.6.6.6", "an untrusted peer among trusted settings");
    CHECK_STR(client("127.0.0.1", "[2001:db8::1]"), "[2001:db8::1]", "IPv6 in brackets is an address");
    CHECK_STR(client("127.0.0.1", ""), "127.0.0.1", "an empty header: the peer");
    return CHECK_DONE();
}
