/* pcap-floor - the fastest a libpcap-based reader can go: open a capture
 * file, read every packet with pcap_next_ex, touch nothing, count. It reads
 * the way applemon does (pcap_fopen_offline on a stream with a 256 KiB
 * buffer: with glibc's 4 KiB default the read(2) calls alone take three
 * times as long as the rest; and without the stream's lock, which glibc
 * takes in each of libpcap's two fread calls per record: a third of the
 * time left), so applemon's packet rate is measured against the fastest
 * libpcap reader, not a slow one (scripts/bench builds and runs it).
 *
 *   pcap-floor FILE     prints: packets bytes(wire) seconds */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pcap-floor FILE\n");
		return 2;
	}
	char ebuf[PCAP_ERRBUF_SIZE];
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static char buffer[256 * 1024];
	setvbuf(f, buffer, _IOFBF, sizeof(buffer));
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p) {
		fprintf(stderr, "pcap-floor: %s\n", ebuf);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long packets = 0, bytes = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->len;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "pcap-floor: %s\n", pcap_geterr(p));
		return 1;
	}
	pcap_close(p);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %llu %.6f\n", packets, bytes, s);
	return 0;
}
