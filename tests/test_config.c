/* test_config.c - configuration files: every key, defaults, and every kind
 * of mistake reported as FILE:LINE: message with the mistake's own line.
 * Also loads the shipped applemon.conf.sample, as is and with every key
 * uncommented (tests run from the repository root). */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

#define SAMPLE "applemon.conf.sample"

static void load_ok(struct config *c, const char *text)
{
	char err[512] = "";
	ck_assert_msg(config_load_string(c, text, "t.conf", err, sizeof(err)), "%s", err);
}

/* The text must fail with "t.conf:LINE: ..." containing needle. */
static void assert_bad(const char *text, int line, const char *needle)
{
	struct config c;
	config_init(&c);
	char err[512] = "";
	bool ok = config_load_string(&c, text, "t.conf", err, sizeof(err));
	config_free(&c);
	ck_assert_msg(!ok, "accepted:\n%s", text);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "want '%s...', got '%s' for:\n%s",
		      prefix, err, text);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' lacks '%s'", err, needle);
}

static const char *watch(const struct config *c, const char *addr)
{
	struct ip_addr a;
	ck_assert(addr_parse(addr, &a));
	return policy_match(c->policy, &a);
}

START_TEST(defaults)
{
	struct config c;
	config_init(&c);
	ck_assert_str_eq(c.sensor_name, "");
	ck_assert_str_eq(c.sig_dir, "");
	ck_assert_str_eq(c.asn_db, "");
	ck_assert_uint_eq(c.suppress_secs, 300);
	ck_assert_uint_eq(c.n_outputs, 0);
	ck_assert_uint_eq(c.flows_max, 262144);
	ck_assert_uint_eq(c.timeout_tcp, 3600);
	ck_assert_uint_eq(c.timeout_tcp_closed, 10);
	ck_assert_uint_eq(c.timeout_udp, 120);
	ck_assert_uint_eq(c.timeout_other, 60);
	ck_assert_uint_eq(c.inspect_packets, 16);
	ck_assert_uint_eq(c.dns_min_ttl, 60);
	ck_assert_uint_eq(c.dns_max_ttl, 86400);
	ck_assert_uint_eq(c.dns_cache_max, 65536);
	ck_assert_uint_eq(c.defrag_max, 1024);
	ck_assert_uint_eq(c.defrag_timeout, 30);
	ck_assert_str_eq(c.interface, "");
	ck_assert_uint_eq(c.snaplen, 65535);
	ck_assert(c.promisc);
	ck_assert_str_eq(c.bpf, "");
	ck_assert_uint_eq(policy_group_count(c.policy), 0);
	ck_assert_str_eq(watch(&c, "10.0.0.1"), POLICY_ALL);
	config_free(&c);
	config_free(&c); /* harmless twice */
}
END_TEST

START_TEST(every_key)
{
	struct config c;
	config_init(&c);
	load_ok(&c, "\xef\xbb\xbf# a full file\r\n"
		    "[sensor]\r\n"
		    "name = hq-sensor-1   # trailing comment\n"
		    "[signatures]\n"
		    "dir = /opt/sigs ; libinih comment\n"
		    "asn_database =\n"
		    "\n"
		    "; another comment\n"
		    "[policy ministers]\n"
		    "hosts = 10.20.0.0/16, 2001:db8:20::/48\n"
		    "  10.30.0.0/16\n"
		    "exempt = 10.20.99.0/24\n"
		    "[policy staff]\n"
		    "exempt = 10.1.1.1\n" /* before hosts: gathered until the section ends */
		    "hosts = 10.0.0.0/8\n"
		    "[policy ministers]\n"
		    "hosts = 192.0.2.0/24\n"
		    "[alerts]\n"
		    "suppress = 0\n"
		    "[output siem]\n"
		    "sink = json:/var/log/a.json\n"
		    "format = cef\n"
		    "[output local]\n"
		    "sink = json:-\n"
		    "[flows]\n"
		    "max = 1000\n"
		    "tcp_timeout = 600\n"
		    "tcp_closed_timeout = 5\n"
		    "udp_timeout = 30\n"
		    "other_timeout = 20\n"
		    "inspect_packets = 4\n"
		    "[dns]\n"
		    "min_ttl = 0\n"
		    "max_ttl = 3600\n"
		    "cache_max = 4096\n"
		    "[capture]\n"
		    "interface = eth1\n"
		    "snaplen = 1500\n"
		    "promisc = off\n"
		    "bpf = tcp port 443\n"
		    "      or udp port 443\n"
		    "[defrag]\n"
		    "max_datagrams = 64\n"
		    "timeout = 5\n");
	ck_assert_str_eq(c.sensor_name, "hq-sensor-1");
	ck_assert_str_eq(c.sig_dir, "/opt/sigs");
	ck_assert_str_eq(c.asn_db, "");
	ck_assert_uint_eq(c.suppress_secs, 0);
	ck_assert_uint_eq(c.n_outputs, 2);
	ck_assert_str_eq(c.outputs[0].name, "siem");
	ck_assert_str_eq(c.outputs[0].sink, "json:/var/log/a.json");
	ck_assert_str_eq(c.outputs[0].format, "cef");
	ck_assert_str_eq(c.outputs[1].name, "local");
	ck_assert_str_eq(c.outputs[1].sink, "json:-");
	ck_assert_str_eq(c.outputs[1].format, "json");
	ck_assert_uint_eq(c.flows_max, 1000);
	ck_assert_uint_eq(c.timeout_tcp, 600);
	ck_assert_uint_eq(c.timeout_tcp_closed, 5);
	ck_assert_uint_eq(c.timeout_udp, 30);
	ck_assert_uint_eq(c.timeout_other, 20);
	ck_assert_uint_eq(c.inspect_packets, 4);
	ck_assert_uint_eq(c.dns_min_ttl, 0);
	ck_assert_uint_eq(c.dns_max_ttl, 3600);
	ck_assert_uint_eq(c.dns_cache_max, 4096);
	ck_assert_str_eq(c.interface, "eth1");
	ck_assert_uint_eq(c.snaplen, 1500);
	ck_assert(!c.promisc);
	ck_assert_str_eq(c.bpf, "tcp port 443 or udp port 443");
	ck_assert_uint_eq(c.defrag_max, 64);
	ck_assert_uint_eq(c.defrag_timeout, 5);

	ck_assert_uint_eq(policy_group_count(c.policy), 2);
	ck_assert_str_eq(watch(&c, "10.20.1.1"), "ministers");
	ck_assert_str_eq(watch(&c, "10.30.1.1"), "ministers");
	ck_assert_str_eq(watch(&c, "192.0.2.7"), "ministers");
	ck_assert_str_eq(watch(&c, "2001:db8:20::1"), "ministers");
	ck_assert_str_eq(watch(&c, "10.20.99.1"), "staff");
	ck_assert_str_eq(watch(&c, "10.9.9.9"), "staff");
	ck_assert_ptr_null(watch(&c, "10.1.1.1"));
	ck_assert_ptr_null(watch(&c, "172.16.0.1"));
	config_free(&c);
}
END_TEST

START_TEST(booleans_and_bounds)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "False" };
	char text[128];
	for (size_t i = 0; i < 6; i++) {
		struct config c;
		config_init(&c);
		c.promisc = false;
		snprintf(text, sizeof(text), "[capture]\npromisc = %s\n", yes[i]);
		load_ok(&c, text);
		ck_assert(c.promisc);
		config_free(&c);
	}
	for (size_t i = 0; i < 5; i++) {
		struct config c;
		config_init(&c);
		snprintf(text, sizeof(text), "[capture]\npromisc = %s\n", no[i]);
		load_ok(&c, text);
		ck_assert(!c.promisc);
		config_free(&c);
	}
	struct config c;
	config_init(&c);
	load_ok(&c, "[flows]\nmax = 16777216\ntcp_timeout = 604800\n[capture]\nsnaplen = 64\n"
		    "[alerts]\nsuppress = 604800\n");
	ck_assert_uint_eq(c.flows_max, 16777216);
	ck_assert_uint_eq(c.snaplen, 64);
	config_free(&c);
}
END_TEST

START_TEST(section_mistakes)
{
	assert_bad("[sensor]\nname = a\n[bogus]\nx = 1\n", 3, "unknown section [bogus]");
	assert_bad("[bogus]\n", 1, "unknown section"); /* even without keys */
	assert_bad("name = a\n", 1, "outside of any section");
	assert_bad("# c\n[sensor\nname = a\n", 2, "without ']'");
	assert_bad("[sensor] x\n", 1, "text after the section header");
	assert_bad("[sensor] # fine\n[flows] ; fine\n[dns]]\n", 3, "text after");
	assert_bad("\n[policy]\nhosts = 10.0.0.0/8\n", 2, "needs a name");
	assert_bad("[output]\nsink = json:-\n", 1, "needs a name");
	assert_bad("[sensor main]\n", 1, "takes no name");
	assert_bad("[policy a b]\n", 1, "bad section name 'a b'");
	assert_bad("[policy a/b]\nhosts = 10.0.0.0/8\n", 1, "bad section name");
	assert_bad("[policy "
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
		   1, "longer than");
	assert_bad("[Sensor]\n", 1, "unknown section");
	assert_bad("[sensor]\njust words\n", 2, "expected 'key = value'");
}
END_TEST

START_TEST(key_mistakes)
{
	assert_bad("[sensor]\nname = a\nhostname = b\n", 3, "unknown key 'hostname' in [sensor]");
	assert_bad("[flows]\nmax = 100\n[dns]\nmax = 100\n", 4, "unknown key 'max' in [dns]");
	assert_bad("[policy p]\nhosts = 10.0.0.0/8\nsink = x\n", 3, "unknown key 'sink' in [policy p]");
	assert_bad("[sensor]\nname =\n", 2, "empty value");
	assert_bad("[sensor]\nname = # only a comment\n", 2, "empty value");
	assert_bad("[signatures]\ndir = \n", 2, "empty value");
	assert_bad("[capture]\ninterface =\n", 2, "empty value");
	assert_bad("[flows]\nmax = 100\nmax = 200\n", 3, "already set on line 2");
	assert_bad("[flows]\nmax = 100\n[dns]\n[flows]\nmax = 200\n", 5, "already set on line 2");
	assert_bad("[flows]\nmax = 100\n  tcp_timeout = 5\n", 3,
		   "indented line would continue [flows] max");
	char name[200];
	memset(name, 'n', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	char text[400];
	snprintf(text, sizeof(text), "[sensor]\nname = %.150s\n", name);
	assert_bad(text, 2, "longer than 127");
}
END_TEST

START_TEST(number_mistakes)
{
	assert_bad("[flows]\ntcp_timeout = 12x\n", 2, "'12x' is not a whole number");
	assert_bad("[flows]\ntcp_timeout = -1\n", 2, "not a whole number");
	assert_bad("[flows]\ntcp_timeout = +5\n", 2, "not a whole number");
	assert_bad("[flows]\ntcp_timeout = 0x10\n", 2, "not a whole number");
	assert_bad("[flows]\ntcp_timeout = 1 0\n", 2, "not a whole number");
	assert_bad("[flows]\ntcp_timeout = 1.5\n", 2, "not a whole number");
	assert_bad("[flows]\ntcp_timeout = 0\n", 2, "out of range (1 to 604800)");
	assert_bad("[flows]\ntcp_timeout = 604801\n", 2, "out of range");
	assert_bad("[flows]\nmax = 99999999999999999999999999\n", 2, "out of range");
	assert_bad("[flows]\nmax = 4294967296\n", 2, "out of range");
	assert_bad("[flows]\nmax = 15\n", 2, "out of range");
	assert_bad("[alerts]\nsuppress = 604801\n", 2, "out of range");
	assert_bad("[flows]\ninspect_packets = 0\n", 2, "out of range");
	assert_bad("[flows]\nudp_timeout = 86401\n", 2, "out of range");
	assert_bad("[flows]\nother_timeout = 0\n", 2, "out of range");
	assert_bad("[flows]\ntcp_closed_timeout = 3601\n", 2, "out of range");
	assert_bad("[defrag]\nmax_datagrams = 0\n", 2, "out of range (1 to 1048576)");
	assert_bad("[defrag]\ntimeout = 3601\n", 2, "out of range (1 to 3600)");
	assert_bad("[defrag]\nmemory = 1\n", 2, "unknown key 'memory' in [defrag]");
	assert_bad("[dns]\ncache_max = 0\n", 2, "out of range");
	assert_bad("[dns]\nmax_ttl = 0\n", 2, "out of range");
	assert_bad("[capture]\nsnaplen = 63\n", 2, "out of range");
	assert_bad("[capture]\nsnaplen = 262145\n", 2, "out of range");
	assert_bad("[capture]\npromisc = maybe\n", 2, "not true or false");
	assert_bad("[dns]\nmin_ttl = 600\nmax_ttl = 300\n", 3, "min_ttl 600 is above max_ttl 300");
	assert_bad("[dns]\nmax_ttl = 30\n", 2, "min_ttl 60 is above max_ttl 30");
}
END_TEST

START_TEST(output_mistakes)
{
	assert_bad("[output a]\nsink = json:-\n[output b]\nsink = json:x\n[output a]\nsink = y\n", 5,
		   "[output a] is defined twice");
	assert_bad("[output a]\nformat = ecs\n[flows]\n", 1, "[output a] has no sink");
	assert_bad("[output a]\n", 1, "has no sink");
	assert_bad("[output a]\nsink =\n", 2, "empty value");
	assert_bad("[output a]\nsink = json:-\nformat = xml\n", 3,
		   "'xml' is not one of json, ecs, cef, leef");
	assert_bad("[output a]\nsink = json:-\nformat = JSON\n", 3, "not one of");
	assert_bad("[output a]\nsink = json:-\nsink = json:x\n", 3, "already set on line 2");
	char text[4096];
	size_t n = 0;
	for (int i = 0; i <= CONFIG_MAX_OUTPUTS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[output o%d]\nsink = json:-\n", i);
	assert_bad(text, 2 * CONFIG_MAX_OUTPUTS + 1, "more than 16");

	/* Outputs from an earlier file count as well. */
	struct config c;
	config_init(&c);
	load_ok(&c, "[output a]\nsink = json:-\n");
	/* A sink spec is checked when the sink opens: its line is kept for
	 * that error (FILE:LINE like every other mistake). */
	ck_assert_int_eq(c.outputs[0].line, 2);
	char err[256];
	ck_assert(!config_load_string(&c, "\n[output a]\nsink = json:-\n", "second.conf", err,
				      sizeof(err)));
	ck_assert_str_eq(err, "second.conf:2: [output a] is defined twice");
	config_free(&c);
}
END_TEST

START_TEST(policy_mistakes)
{
	assert_bad("[policy p]\nexempt = 10.1.0.0/16\n[flows]\n", 1, "[policy p]: policy p has no hosts");
	assert_bad("[policy p]\n", 1, "has no hosts");
	assert_bad("[policy p]\nhosts = 10.0.0.0/8\nexempt = 10.1.0.0/33\n", 3,
		   "[policy p] exempt: '10.1.0.0/33' is not a prefix");
	assert_bad("[policy p]\nhosts = 10.0.0.0/8\n  10.1.2.3/8\n", 3, "host bits set");
	assert_bad("[policy p]\nhosts =\n", 2, "empty value");
	assert_bad("[policy p]\nhosts = ,\n", 1, "has no hosts");
}
END_TEST

START_TEST(text_mistakes)
{
	char text[512];
	memset(text, 'x', sizeof(text));
	memcpy(text, "[sensor]\nname = ", 16);
	text[sizeof(text) - 1] = '\0';
	assert_bad(text, 2, "line longer than 197");

	static const char with_nul[] = "[sensor]\nname = a\0b\n";
	struct config c;
	config_init(&c);
	char err[256];
	/* config_load_string stops at the NUL; from a file the NUL is seen. */
	char path[] = "/tmp/applemon-conf-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, with_nul, sizeof(with_nul) - 1), (ssize_t)sizeof(with_nul) - 1);
	close(fd);
	ck_assert(!config_load(&c, path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":2: NUL byte"));
	unlink(path);
	config_free(&c);
}
END_TEST

START_TEST(files)
{
	struct config c;
	config_init(&c);
	char err[512];
	ck_assert(!config_load(&c, "/nonexistent/applemon.conf", err, sizeof(err)));
	char want[256];
	snprintf(want, sizeof(want), "/nonexistent/applemon.conf: cannot open: %s", strerror(ENOENT));
	ck_assert_str_eq(err, want);

	char path[] = "/tmp/applemon-conf-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	static const char text[] = "[flows]\nmax = 5000\n[policy a]\nhosts = 10.0.0.0/8\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(c.flows_max, 5000);
	/* A second file on top: values replaced, groups extended. */
	load_ok(&c, "[flows]\nmax = 6000\n[policy a]\nhosts = 11.0.0.0/8\n[policy b]\nhosts = ::/0\n");
	ck_assert_uint_eq(c.flows_max, 6000);
	ck_assert_uint_eq(policy_group_count(c.policy), 2);
	ck_assert_str_eq(watch(&c, "11.1.1.1"), "a");
	ck_assert_str_eq(watch(&c, "2001:db8::1"), "b");

	/* Errors name the file as given. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	static const char bad[] = "[flows]\n\nmax = lots\n";
	ck_assert_int_eq(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
	close(fd);
	ck_assert(!config_load(&c, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: [flows] max: 'lots' is not a whole number", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	config_free(&c);
}
END_TEST

/* [capture]: live capture, workers and privileges. */
START_TEST(capture_keys)
{
	struct config c;
	config_init(&c);
	ck_assert_uint_eq(c.workers, 0);             /* one per core */
	ck_assert_uint_eq(c.ring_size, 64);
	ck_assert(!c.immediate);
	ck_assert(c.cpu_affinity);
	ck_assert(c.reader_thread);
	ck_assert_str_eq(c.user, "");
	ck_assert_str_eq(c.chroot_dir, "");
	ck_assert_uint_eq(c.stats_interval, 60);
	load_ok(&c, "[capture]\n"
		    "interface = tap0, tap1\n"
		    "workers = 4\n"
		    "ring_size = 256\n"
		    "immediate = yes\n"
		    "cpu_affinity = false\n"
		    "reader_thread = no\n"
		    "user = applemon\n"
		    "chroot = /var/empty\n"
		    "stats_interval = 0\n");
	ck_assert_str_eq(c.interface, "tap0, tap1");
	ck_assert_uint_eq(c.workers, 4);
	ck_assert_uint_eq(c.ring_size, 256);
	ck_assert(c.immediate);
	ck_assert(!c.cpu_affinity);
	ck_assert(!c.reader_thread);
	ck_assert_str_eq(c.user, "applemon");
	ck_assert_str_eq(c.chroot_dir, "/var/empty");
	ck_assert_uint_eq(c.stats_interval, 0);
	config_free(&c);

	assert_bad("[capture]\nworkers = 65\n", 2, "out of range");
	assert_bad("[capture]\nworkers = two\n", 2, "not a whole number");
	assert_bad("[capture]\nring_size = 0\n", 2, "out of range");
	assert_bad("[capture]\nring_size = 2048\n", 2, "out of range");
	assert_bad("[capture]\nimmediate = sometimes\n", 2, "not true or false");
	assert_bad("[capture]\ncpu_affinity = 2\n", 2, "not true or false");
	assert_bad("[capture]\nreader_thread = maybe\n", 2, "not true or false");
	assert_bad("[capture]\nuser =\n", 2, "empty value");
	assert_bad("[capture]\nchroot =\n", 2, "empty value");
	assert_bad("[capture]\nstats_interval = 86401\n", 2, "out of range");
}
END_TEST

/* ---- the shipped sample -------------------------------------------------- */

static char *read_sample(void)
{
	FILE *f = fopen(SAMPLE, "r");
	ck_assert_msg(f != NULL, "%s: %s (run from the repository root)", SAMPLE, strerror(errno));
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	ck_assert_uint_lt(n, 65535);
	return buf;
}

/* [delivery] and [status]: the delivery loop's settings. */
START_TEST(delivery_keys)
{
	struct config c;
	config_init(&c);
	ck_assert_uint_eq(c.delivery_queue, 4096);
	ck_assert_uint_eq(c.delivery_memory, 0);   /* each sink: 4 MiB with a spool, else 64 MiB */
	ck_assert_str_eq(c.spool_dir, "");
	ck_assert_uint_eq(c.spool_size, 1u << 30);
	ck_assert_uint_eq(c.flush_timeout, 10);
	ck_assert_uint_eq(c.reconnect_max, 30);
	ck_assert_str_eq(c.status_listen, "");
	load_ok(&c, "[delivery]\nqueue = 16\nmemory = 4096\nspool_dir = /var/spool/applemon\n"
		    "spool_size = 0\nflush_timeout = 0\nreconnect_max = 3600\n"
		    "[status]\nlisten = [::1]:9478\n");
	ck_assert_uint_eq(c.delivery_queue, 16);
	ck_assert_uint_eq(c.delivery_memory, 4096);
	ck_assert_str_eq(c.spool_dir, "/var/spool/applemon");
	ck_assert_uint_eq(c.spool_size, 0);
	ck_assert_uint_eq(c.flush_timeout, 0);
	ck_assert_uint_eq(c.reconnect_max, 3600);
	ck_assert_str_eq(c.status_listen, "[::1]:9478");
	config_free(&c);
	config_init(&c);
	load_ok(&c, "[status]\nlisten = off\n");
	ck_assert_str_eq(c.status_listen, "off");
	config_free(&c);
	config_init(&c);
	load_ok(&c, "[status]\nlisten = 127.0.0.1:1\n[delivery]\nmemory = 4294967295\n");
	ck_assert_uint_eq(c.delivery_memory, 4294967295u);
	config_free(&c);
	assert_bad("[status]\nlisten = localhost:9478\n", 2, "is not ADDRESS:PORT");
	assert_bad("[status]\nlisten = 127.0.0.1\n", 2, "is not ADDRESS:PORT");
	assert_bad("[status]\nlisten = 127.0.0.1:0\n", 2, "is not ADDRESS:PORT");
	assert_bad("[status]\nlisten = 127.0.0.1:65536\n", 2, "is not ADDRESS:PORT");
	assert_bad("[status]\nlisten = []:80\n", 2, "is not ADDRESS:PORT");
	assert_bad("# x\n[delivery]\nqueue = 15\n", 3, "out of range (16 to 1048576)");
	assert_bad("[delivery]\nmemory = 4095\n", 2, "out of range");
	assert_bad("[delivery]\nmemory = 4294967296\n", 2, "out of range");
	assert_bad("[delivery]\nreconnect_max = 0\n", 2, "out of range");
	assert_bad("[delivery]\nflush_timeout = 3601\n", 2, "out of range");
	assert_bad("[delivery]\nspool = 1\n", 2, "unknown key 'spool' in [delivery]");
	assert_bad("[status]\nport = 1\n", 2, "unknown key 'port' in [status]");
	assert_bad("[status x]\n", 1, "[status] takes no name");
}
END_TEST

START_TEST(sample_loads_as_defaults)
{
	char *text = read_sample();
	struct config c, d;
	config_init(&c);
	config_init(&d);
	char err[512];
	ck_assert_msg(config_load_string(&c, text, SAMPLE, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(c.flows_max, d.flows_max);
	ck_assert_uint_eq(c.n_outputs, 0);
	ck_assert_uint_eq(policy_group_count(c.policy), 0);
	config_free(&c);
	config_free(&d);
	free(text);
}
END_TEST

/* Uncomments every "#key = value" and "#[section]" line: each documented
 * key must be a real one with a valid example. */
START_TEST(sample_every_key_is_valid)
{
	char *text = read_sample();
	regex_t re;
	ck_assert_int_eq(regcomp(&re, "^#([a-z_]+ = |\\[)", REG_EXTENDED | REG_NEWLINE), 0);
	char *out = calloc(1, 65536);
	size_t o = 0, keys = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (regexec(&re, line, 0, NULL, 0) == 0) {
			line++;
			keys += line[0] != '[';
		}
		o += (size_t)snprintf(out + o, 65536 - o, "%s\n", line);
	}
	regfree(&re);
	ck_assert_uint_ge(keys, 20);
	struct config c;
	config_init(&c);
	char err[512];
	ck_assert_msg(config_load_string(&c, out, SAMPLE, err, sizeof(err)), "%s", err);
	ck_assert_str_eq(c.sensor_name, "sensor-01");
	ck_assert_uint_eq(c.n_outputs, 1);
	ck_assert_str_eq(c.outputs[0].format, "json");
	ck_assert_uint_eq(policy_group_count(c.policy), 1);
	ck_assert_str_eq(c.bpf, "not port 22");
	ck_assert_str_eq(c.interface, "eth0");
	config_free(&c);
	free(out);
	free(text);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("keys");
	tcase_add_test(t, defaults);
	tcase_add_test(t, every_key);
	tcase_add_test(t, booleans_and_bounds);
	tcase_add_test(t, files);
	tcase_add_test(t, delivery_keys);
	tcase_add_test(t, capture_keys);
	suite_add_tcase(s, t);

	t = tcase_create("mistakes");
	tcase_add_test(t, section_mistakes);
	tcase_add_test(t, key_mistakes);
	tcase_add_test(t, number_mistakes);
	tcase_add_test(t, output_mistakes);
	tcase_add_test(t, policy_mistakes);
	tcase_add_test(t, text_mistakes);
	suite_add_tcase(s, t);

	t = tcase_create("sample");
	tcase_add_test(t, sample_loads_as_defaults);
	tcase_add_test(t, sample_every_key_is_valid);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
