/* pcap_floor.c — the cost of reading a capture and nothing else.
 *
 * The benchmark's floor: libpcap's offline reader with pcap_next_ex, summing the captured
 * length of every packet so the loop cannot be optimised away. No decoding, no flows, no
 * output but one line. Any tool that reads the same file through libpcap can at best match
 * this; bench/run.sh reports vakt's throughput as a share of it.
 *
 * Usage: pcap_floor FILE   prints "packets=N bytes=M" (M = sum of caplen) on stdout.
 * Cost: O(packets); libpcap reuses one buffer, nothing is allocated per packet. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_floor FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "pcap_floor: %s: %s\n", argv[1], err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t packets = 0, bytes = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pcap_floor: %s: after %" PRIu64 " packets: %s\n", argv[1], packets,
                pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    printf("packets=%" PRIu64 " bytes=%" PRIu64 "\n", packets, bytes);
    return 0;
}
