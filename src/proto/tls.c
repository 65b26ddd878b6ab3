/* tls.c — TLS over TCP: record layer, handshake reassembly and handshake facts.
 *
 * Owns, per direction, the cut between TCP bytes and TLS records (a partial record is
 * held in a bounded buffer) and between records and handshake messages (a message that
 * spans records is held in a second bounded buffer). A direction is followed while it is
 * cleartext: ChangeCipherSpec, application data or anything unparseable ends it, so TLS
 * 1.3 stops after the ServerHello (its certificates are encrypted) and TLS <= 1.2 after
 * the server's Certificate flight. The first ClientHello, every cleartext ServerHello and
 * the server's Certificate messages go to vk_tls_handshake(), which is shared with the
 * QUIC parser (quic.c hands it the ClientHello it decrypts from an Initial).
 *
 * Facts follow what Arkime writes, because the scorer compares with it: the SNI (also in
 * alias.host), ALPN offers, tls.version and tls.cipher from the ServerHello with Arkime's
 * spelling, JA3/JA3S (md5 of Arkime's strings, GREASE removed from the client's lists),
 * JA4 (FoxIO layout, version/ALPN quirks as Arkime computes them) and, per server
 * certificate parsed with OpenSSL, subject/issuer CN (lower-case), the serial as the hex
 * of its DER content bytes, validity in ms, subjectAltName DNS names and the SHA-1
 * fingerprint (colon-separated, Arkime's cert.hash). An SSLv2-style ClientHello only
 * marks the service. Malformed input becomes `tls.*` anomalies, never a crash. */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <pthread.h>

#include "vk_proto.h"

#define TLS_REC_HDR 5
#define TLS_REC_MAX (16384 + 2048)  /* largest TLSCiphertext fragment */
#define TLS_HS_MAX (64 * 1024)      /* a handshake message spanning records */
#define TLS_MAX_CERTS 10            /* certificates parsed per Certificate message */
#define TLS_MAX_CERT_MSGS 2         /* Certificate messages parsed per session */
#define TLS_MAX_SERVER_HELLOS 4     /* HelloRetryRequest + ServerHello, with margin */
#define TLS_MAX_LIST 512            /* ciphers / extensions / groups kept for fingerprints */
#define TLS_JA3_MAX (16 * 1024)

enum {
    TLS_CT_CCS = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPDATA = 23,
    TLS_CT_HEARTBEAT = 24,
    TLS_CT_SSL2 = 256, /* pseudo type: an SSLv2-framed hello */
};

enum {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_CERTIFICATE = 11,
};

/* ---- small helpers ------------------------------------------------------------------ */

static void anomaly(struct vk_meta *m, const char *what) { vk_meta_add_cstr(m, VK_K_ANOMALY, what); }

/* GREASE values (RFC 8701): 0x?a?a with both bytes equal. */
static bool tls_is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* A bounded text builder: output past cap is dropped and remembered in `over`. */
struct tls_str {
    char *p;
    size_t len, cap;
    bool over;
};

static void str_printf(struct tls_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void str_printf(struct tls_str *s, const char *fmt, ...)
{
    if (s->over) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= s->cap - s->len) {
        s->over = true;
        s->p[s->len] = 0;
        return;
    }
    s->len += (size_t)n;
}

/* "a-b-c" (JA3, decimal) or "aaaa,bbbb" (JA4, hex) from a list. Formatted by hand: a
 * hello lists dozens of values, and printf per value was most of a hello's cost. */
static void str_list(struct tls_str *s, const uint16_t *v, unsigned n, bool hex)
{
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && !s->over; i++) {
        char b[8];
        size_t k = 0;
        if (i) b[k++] = hex ? ',' : '-';
        unsigned x = v[i];
        if (hex) {
            for (int sh = 12; sh >= 0; sh -= 4) b[k++] = hx[(x >> sh) & 15];
        } else {
            char d[5];
            int nd = 0;
            do {
                d[nd++] = (char)('0' + x % 10);
                x /= 10;
            } while (x);
            while (nd) b[k++] = d[--nd];
        }
        if (k >= s->cap - s->len) { /* as str_printf: no partial value, remember the cut */
            s->over = true;
            s->p[s->len] = 0;
            return;
        }
        memcpy(s->p + s->len, b, k);
        s->len += k;
        s->p[s->len] = 0;
    }
}

/* Digests fetched once: EVP_md5() and friends make OpenSSL 3 look the algorithm up by name,
 * under a lock, at every use. */
enum { D_MD5, D_SHA1, D_SHA256 };
static EVP_MD *mds[3];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_fetch(void)
{
    mds[D_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
    mds[D_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
    mds[D_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
}
static const EVP_MD *md(int which) /* NULL when OpenSSL lacks it: digests then fail */
{
    pthread_once(&md_once, md_fetch);
    return mds[which];
}

/* Digest of p[0..n) as lower-case hex into out (2 * digest size + 1 bytes). Allocates an
 * EVP context inside OpenSSL; called once per hello or certificate, not per packet. */
static bool digest_hex(const EVP_MD *md, const void *p, size_t n, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!EVP_Digest(p, n, d, &dl, md, NULL)) {
        ERR_clear_error();
        out[0] = 0;
        return false;
    }
    vk_hex(d, dl, out);
    return true;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* ---- names as Arkime prints them ----------------------------------------------------- */

static void add_version(struct vk_meta *m, uint16_t v)
{
    switch (v) {
    case 0x0100: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "SSLv1"); break;
    case 0x0200: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "SSLv2"); break;
    case 0x0300: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "SSLv3"); break;
    case 0x0301: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "TLSv1"); break;
    case 0x0302: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "TLSv1.1"); break;
    case 0x0303: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "TLSv1.2"); break;
    case 0x0304: vk_meta_add_cstr(m, VK_K_TLS_VERSION, "TLSv1.3"); break;
    default:
        if ((v >> 8) == 0x7f)
            vk_meta_printf(m, VK_K_TLS_VERSION, "TLSv1.3-draft-%02u", (unsigned)(v & 0xff));
        else
            vk_meta_printf(m, VK_K_TLS_VERSION, "0x%04x", (unsigned)v);
    }
}

/* JA4's two-character version; drafts count as unknown ("00"), as Arkime does. */
static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0100: return "s1";
    case 0x0200: return "s2";
    case 0x0300: return "s3";
    case 0x0301: return "10";
    case 0x0302: return "11";
    case 0x0303: return "12";
    case 0x0304: return "13";
    default: return "00";
    }
}

/* IANA TLS cipher-suite registry names, upper-cased as Arkime prints them (plus the few
 * non-IANA code points Arkime names). Sorted by code for binary search. */
static const struct tls_cipher {
    uint16_t code;
    const char *name;
} tls_ciphers[] = {
    {0x0000, "TLS_NULL_WITH_NULL_NULL"},
    {0x0001, "TLS_RSA_WITH_NULL_MD5"},
    {0x0002, "TLS_RSA_WITH_NULL_SHA"},
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"},
    {0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"},
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA"},
    {0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA"},
    {0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA"},
    {0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA"},
    {0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA"},
    {0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA"},
    {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"},
    {0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0017, "TLS_DH_ANON_EXPORT_WITH_RC4_40_MD5"},
    {0x0018, "TLS_DH_ANON_WITH_RC4_128_MD5"},
    {0x0019, "TLS_DH_ANON_EXPORT_WITH_DES40_CBC_SHA"},
    {0x001a, "TLS_DH_ANON_WITH_DES_CBC_SHA"},
    {0x001b, "TLS_DH_ANON_WITH_3DES_EDE_CBC_SHA"},
    {0x001e, "TLS_KRB5_WITH_DES_CBC_SHA"},
    {0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA"},
    {0x0020, "TLS_KRB5_WITH_RC4_128_SHA"},
    {0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA"},
    {0x0022, "TLS_KRB5_WITH_DES_CBC_MD5"},
    {0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5"},
    {0x0024, "TLS_KRB5_WITH_RC4_128_MD5"},
    {0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5"},
    {0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA"},
    {0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA"},
    {0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA"},
    {0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5"},
    {0x002a, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5"},
    {0x002b, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5"},
    {0x002c, "TLS_PSK_WITH_NULL_SHA"},
    {0x002d, "TLS_DHE_PSK_WITH_NULL_SHA"},
    {0x002e, "TLS_RSA_PSK_WITH_NULL_SHA"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA"},
    {0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA"},
    {0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0034, "TLS_DH_ANON_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA"},
    {0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA"},
    {0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003a, "TLS_DH_ANON_WITH_AES_256_CBC_SHA"},
    {0x003b, "TLS_RSA_WITH_NULL_SHA256"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256"},
    {0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256"},
    {0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"},
    {0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0046, "TLS_DH_ANON_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256"},
    {0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256"},
    {0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x006c, "TLS_DH_ANON_WITH_AES_128_CBC_SHA256"},
    {0x006d, "TLS_DH_ANON_WITH_AES_256_CBC_SHA256"},
    {0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0089, "TLS_DH_ANON_WITH_CAMELLIA_256_CBC_SHA"},
    {0x008a, "TLS_PSK_WITH_RC4_128_SHA"},
    {0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA"},
    {0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA"},
    {0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA"},
    {0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"},
    {0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"},
    {0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA"},
    {0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"},
    {0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"},
    {0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"},
    {0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA"},
    {0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA"},
    {0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA"},
    {0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA"},
    {0x009b, "TLS_DH_ANON_WITH_SEED_CBC_SHA"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256"},
    {0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"},
    {0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"},
    {0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256"},
    {0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384"},
    {0x00a6, "TLS_DH_ANON_WITH_AES_128_GCM_SHA256"},
    {0x00a7, "TLS_DH_ANON_WITH_AES_256_GCM_SHA384"},
    {0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b0, "TLS_PSK_WITH_NULL_SHA256"},
    {0x00b1, "TLS_PSK_WITH_NULL_SHA384"},
    {0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256"},
    {0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384"},
    {0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256"},
    {0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384"},
    {0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00bf, "TLS_DH_ANON_WITH_CAMELLIA_128_CBC_SHA256"},
    {0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00c5, "TLS_DH_ANON_WITH_CAMELLIA_256_CBC_SHA256"},
    {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
    {0x1300, "UNASSIGNED"},
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0x5600, "TLS_FALLBACK_SCSV"},
    {0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA"},
    {0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA"},
    {0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"},
    {0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
    {0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA"},
    {0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA"},
    {0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"},
    {0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"},
    {0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"},
    {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc015, "TLS_ECDH_ANON_WITH_NULL_SHA"},
    {0xc016, "TLS_ECDH_ANON_WITH_RC4_128_SHA"},
    {0xc017, "TLS_ECDH_ANON_WITH_3DES_EDE_CBC_SHA"},
    {0xc018, "TLS_ECDH_ANON_WITH_AES_128_CBC_SHA"},
    {0xc019, "TLS_ECDH_ANON_WITH_AES_256_CBC_SHA"},
    {0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA"},
    {0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"},
    {0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"},
    {0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA"},
    {0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA"},
    {0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA"},
    {0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA"},
    {0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"},
    {0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"},
    {0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"},
    {0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384"},
    {0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA"},
    {0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256"},
    {0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384"},
    {0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc03d, "TLS_RSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc03e, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256"},
    {0xc03f, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384"},
    {0xc040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256"},
    {0xc043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384"},
    {0xc044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc046, "TLS_DH_ANON_WITH_ARIA_128_CBC_SHA256"},
    {0xc047, "TLS_DH_ANON_WITH_ARIA_256_CBC_SHA384"},
    {0xc048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc04a, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc04b, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc04c, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc04d, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc04e, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256"},
    {0xc04f, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384"},
    {0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256"},
    {0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384"},
    {0xc058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256"},
    {0xc059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384"},
    {0xc05a, "TLS_DH_ANON_WITH_ARIA_128_GCM_SHA256"},
    {0xc05b, "TLS_DH_ANON_WITH_ARIA_256_GCM_SHA384"},
    {0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc05e, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc05f, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256"},
    {0xc065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384"},
    {0xc066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256"},
    {0xc067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384"},
    {0xc068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256"},
    {0xc069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384"},
    {0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256"},
    {0xc071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384"},
    {0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc07a, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc07b, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc07c, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc07d, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc07e, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc07f, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc084, "TLS_DH_ANON_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc085, "TLS_DH_ANON_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc08a, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc08b, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc08c, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc08d, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc08e, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc08f, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256"},
    {0xc093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384"},
    {0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"},
    {0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"},
    {0xc09c, "TLS_RSA_WITH_AES_128_CCM"},
    {0xc09d, "TLS_RSA_WITH_AES_256_CCM"},
    {0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"},
    {0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM"},
    {0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8"},
    {0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8"},
    {0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8"},
    {0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8"},
    {0xc0a4, "TLS_PSK_WITH_AES_128_CCM"},
    {0xc0a5, "TLS_PSK_WITH_AES_256_CCM"},
    {0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM"},
    {0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM"},
    {0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8"},
    {0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8"},
    {0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8"},
    {0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8"},
    {0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
    {0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
    {0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"},
    {0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"},
    {0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"},
    {0xc0b1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384"},
    {0xc0b2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256"},
    {0xc0b3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384"},
    {0xc0b4, "TLS_SHA256_SHA256"},
    {0xc0b5, "TLS_SHA384_SHA384"},
    {0xc100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"},
    {0xc101, "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC"},
    {0xc102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT"},
    {0xcc13, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcc14, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcc15, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xd000, "UNASSIGNED"},
    {0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"},
    {0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384"},
    {0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256"},
    {0xd004, "UNASSIGNED"},
    {0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256"},
    {0xe410, "TLS_RSA_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe411, "TLS_RSA_WITH_SALSA20_SHA1"},
    {0xe412, "TLS_ECDHE_RSA_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe413, "TLS_ECDHE_RSA_WITH_SALSA20_SHA1"},
    {0xe414, "TLS_ECDHE_ECDSA_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe415, "TLS_ECDHE_ECDSA_WITH_SALSA20_SHA1"},
    {0xe416, "TLS_PSK_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe417, "TLS_PSK_WITH_SALSA20_SHA1"},
    {0xe418, "TLS_ECDHE_PSK_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe419, "TLS_ECDHE_PSK_WITH_SALSA20_SHA1"},
    {0xe41a, "TLS_RSA_PSK_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe41b, "TLS_RSA_PSK_WITH_SALSA20_SHA1"},
    {0xe41c, "TLS_DHE_PSK_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe41d, "TLS_DHE_PSK_WITH_SALSA20_SHA1"},
    {0xe41e, "TLS_DHE_RSA_WITH_ESTREAM_SALSA20_SHA1"},
    {0xe41f, "TLS_DHE_RSA_WITH_SALSA20_SHA1"},
};

/* Arkime's name for a cipher suite, or "0x%04x" when it has none. O(log n). */
static void add_cipher(struct vk_meta *m, uint16_t code)
{
    size_t lo = 0, hi = sizeof tls_ciphers / sizeof tls_ciphers[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tls_ciphers[mid].code == code) {
            vk_meta_add_cstr(m, VK_K_TLS_CIPHER, tls_ciphers[mid].name);
            return;
        }
        if (tls_ciphers[mid].code < code) lo = mid + 1;
        else hi = mid;
    }
    vk_meta_printf(m, VK_K_TLS_CIPHER, "0x%04x", (unsigned)code);
}

/* ---- ClientHello: SNI, ALPN, JA3, JA4 ------------------------------------------------ */

struct tls_list {
    uint16_t v[TLS_MAX_LIST];
    unsigned n;
};

static bool list_push(struct tls_list *l, uint16_t v)
{
    if (l->n >= TLS_MAX_LIST) return false;
    l->v[l->n++] = v;
    return true;
}

/* What a ClientHello yields for the fingerprints (all GREASE already removed, except from
 * sigalgs, which Arkime keeps as sent). About 5 KiB: lives on the caller's stack. */
struct tls_client_hello {
    uint16_t legacy_version, max_version;
    struct tls_list ciphers, exts, ja4_exts, groups, sigalgs;
    uint8_t point_formats[256];
    unsigned n_point_formats;
    bool has_sni, overflow;
    char alpn[2];
};

/* server_name: a list holding one host_name, as Arkime accepts it. */
static void client_sni(struct tls_client_hello *h, struct vk_meta *m, struct vk_cur e)
{
    uint16_t list_len, name_len;
    uint8_t type;
    struct vk_cur name;
    if (!vk_cur_u16be(&e, &list_len) || list_len != vk_cur_left(&e) || !vk_cur_u8(&e, &type) ||
        type != 0 || !vk_cur_u16be(&e, &name_len) || name_len != vk_cur_left(&e)) {
        anomaly(m, "tls.bad_sni");
        return;
    }
    vk_cur_take(&e, name_len, &name);
    h->has_sni = true;
    if (name_len == 0) return;
    for (const uint8_t *q = name.p; q < name.end; q++)
        if (*q <= 0x20 || *q >= 0x7f) {
            anomaly(m, "tls.bad_sni");
            break;
        }
    vk_meta_add_lower(m, VK_K_TLS_SNI, (const char *)name.p, name_len);
    vk_meta_add_lower(m, VK_K_ALIAS_HOST, (const char *)name.p, name_len);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ALPN: every protocol goes to tls.alpn; JA4 takes the first and last character of the
 * first one (hex digits of its first and last byte when those are not alphanumeric). */
static void client_alpn(struct tls_client_hello *h, struct vk_meta *m, struct vk_cur e)
{
    uint16_t list_len;
    struct vk_cur list;
    if (!vk_cur_u16be(&e, &list_len) || !vk_cur_take(&e, list_len, &list)) {
        anomaly(m, "tls.bad_extension");
        return;
    }
    bool first = true;
    while (vk_cur_left(&list)) {
        uint8_t len;
        struct vk_cur proto;
        if (!vk_cur_u8(&list, &len) || !vk_cur_take(&list, len, &proto)) {
            anomaly(m, "tls.bad_extension");
            return;
        }
        if (len == 0) {
            first = false;
            continue;
        }
        if (first) {
            uint8_t a = proto.p[0], z = proto.p[len - 1];
            if (is_alnum(a) && is_alnum(z)) {
                h->alpn[0] = (char)a;
                h->alpn[1] = (char)z;
            } else {
                static const char hx[] = "0123456789abcdef";
                h->alpn[0] = hx[a >> 4];
                h->alpn[1] = hx[z & 0xf];
            }
            first = false;
        }
        vk_meta_add_str(m, VK_K_TLS_ALPN, (const char *)proto.p, len);
    }
}

/* A u16-length-prefixed list of u16 (supported_groups, signature_algorithms). */
static void client_u16_list(struct tls_client_hello *h, struct vk_meta *m, struct vk_cur e,
                            struct tls_list *out, bool drop_grease)
{
    uint16_t len, v;
    struct vk_cur l;
    if (!vk_cur_u16be(&e, &len) || !vk_cur_take(&e, len, &l) || (len & 1)) {
        anomaly(m, "tls.bad_extension");
        return;
    }
    while (vk_cur_u16be(&l, &v))
        if (!(drop_grease && tls_is_grease(v)) && !list_push(out, v)) h->overflow = true;
}

static void client_extension(struct tls_client_hello *h, struct vk_meta *m, uint16_t type,
                             struct vk_cur e)
{
    switch (type) {
    case 0x0000: client_sni(h, m, e); break;
    case 0x000a: client_u16_list(h, m, e, &h->groups, true); break;
    case 0x000b: {
        uint8_t len, v;
        struct vk_cur l;
        if (!vk_cur_u8(&e, &len) || !vk_cur_take(&e, len, &l)) {
            anomaly(m, "tls.bad_extension");
            break;
        }
        while (vk_cur_u8(&l, &v)) {
            if (h->n_point_formats >= sizeof h->point_formats) {
                h->overflow = true;
                break;
            }
            h->point_formats[h->n_point_formats++] = v;
        }
        break;
    }
    case 0x000d: client_u16_list(h, m, e, &h->sigalgs, false); break;
    case 0x0010: client_alpn(h, m, e); break;
    case 0x002b: { /* supported_versions: JA4 takes the highest, GREASE aside */
        uint8_t len;
        uint16_t v;
        struct vk_cur l;
        if (!vk_cur_u8(&e, &len) || !vk_cur_take(&e, len, &l)) {
            anomaly(m, "tls.bad_extension");
            break;
        }
        while (vk_cur_u16be(&l, &v))
            if (!tls_is_grease(v) && v > h->max_version) h->max_version = v;
        break;
    }
    default: break;
    }
}

static void client_fingerprints(struct tls_client_hello *h, struct vk_meta *m, bool quic)
{
    char ja3[TLS_JA3_MAX], hash[2 * EVP_MAX_MD_SIZE + 1];
    struct tls_str s = {ja3, 0, sizeof ja3, false};

    /* JA3: version,ciphers,extensions,groups,point formats (decimal, '-' separated). */
    str_printf(&s, "%u,", (unsigned)h->legacy_version);
    str_list(&s, h->ciphers.v, h->ciphers.n, false);
    str_printf(&s, ",");
    str_list(&s, h->exts.v, h->exts.n, false);
    str_printf(&s, ",");
    str_list(&s, h->groups.v, h->groups.n, false);
    str_printf(&s, ",");
    for (unsigned i = 0; i < h->n_point_formats; i++)
        str_printf(&s, "%s%u", i ? "-" : "", (unsigned)h->point_formats[i]);
    if (s.over) anomaly(m, "tls.ja3_too_long");
    else if (digest_hex(md(D_MD5), s.p, s.len, hash))
        vk_meta_add_str(m, VK_K_TLS_JA3, hash, 32);

    /* JA4: <t|q><ver><d|i><#ciphers><#exts><alpn>_<sha256/12 sorted ciphers>_<sha256/12
     * sorted extensions less SNI and ALPN, then '_' and the sigalgs as sent>. */
    char ja4[40], part[TLS_JA3_MAX];
    unsigned nc = h->ciphers.n > 99 ? 99 : h->ciphers.n, ne = h->exts.n > 99 ? 99 : h->exts.n;
    snprintf(ja4, sizeof ja4, "%c%s%c%02u%02u%c%c_", quic ? 'q' : 't', ja4_version(h->max_version),
             h->has_sni ? 'd' : 'i', nc, ne, h->alpn[0], h->alpn[1]);

    uint16_t sorted[TLS_MAX_LIST];
    memcpy(sorted, h->ciphers.v, h->ciphers.n * sizeof sorted[0]);
    qsort(sorted, h->ciphers.n, sizeof sorted[0], cmp_u16);
    s = (struct tls_str){part, 0, sizeof part, false};
    str_list(&s, sorted, h->ciphers.n, true);
    bool ok = s.len && digest_hex(md(D_SHA256), s.p, s.len, hash);
    memcpy(ja4 + 11, ok ? hash : "000000000000", 12);
    ja4[23] = '_';

    memcpy(sorted, h->ja4_exts.v, h->ja4_exts.n * sizeof sorted[0]);
    qsort(sorted, h->ja4_exts.n, sizeof sorted[0], cmp_u16);
    s = (struct tls_str){part, 0, sizeof part, false};
    str_list(&s, sorted, h->ja4_exts.n, true);
    if (h->sigalgs.n) {
        str_printf(&s, "_");
        str_list(&s, h->sigalgs.v, h->sigalgs.n, true);
    }
    ok = s.len && digest_hex(md(D_SHA256), s.p, s.len, hash);
    memcpy(ja4 + 24, ok ? hash : "000000000000", 12);
    ja4[36] = 0;
    vk_meta_add_cstr(m, VK_K_TLS_JA4, ja4);
}

/* body: the ClientHello after the 4-byte handshake header. `complete` is false when the
 * message was cut short: then names found so far are kept, but no fingerprint is made
 * (it would describe a hello nobody sent). O(size of the hello); no allocation. */
static int client_hello(struct vk_meta *m, struct vk_cur b, bool complete, bool quic)
{
    struct tls_client_hello h;
    uint8_t sid_len, comp_len;
    uint16_t cs_len, v;
    struct vk_cur cs;

    memset(&h, 0, sizeof h);
    h.alpn[0] = h.alpn[1] = '0';
    if (!vk_cur_u16be(&b, &h.legacy_version) || !vk_cur_skip(&b, 32) || !vk_cur_u8(&b, &sid_len) ||
        !vk_cur_skip(&b, sid_len) || !vk_cur_u16be(&b, &cs_len) || !vk_cur_take(&b, cs_len, &cs) ||
        !vk_cur_u8(&b, &comp_len) || !vk_cur_skip(&b, comp_len)) {
        anomaly(m, complete ? "tls.bad_hello" : "tls.truncated_hello");
        return VK_EFORMAT;
    }
    h.max_version = h.legacy_version;
    if (cs_len & 1) anomaly(m, "tls.bad_hello");
    while (vk_cur_u16be(&cs, &v))
        if (!tls_is_grease(v) && !list_push(&h.ciphers, v)) h.overflow = true;

    int rc = 0;
    uint16_t ext_len;
    if (vk_cur_u16be(&b, &ext_len)) {
        struct vk_cur exts = b;
        if (ext_len > vk_cur_left(&b)) {
            anomaly(m, complete ? "tls.bad_extension" : "tls.truncated_hello");
            rc = VK_EFORMAT;
        } else {
            vk_cur_take(&b, ext_len, &exts);
        }
        while (vk_cur_left(&exts) >= 4) {
            uint16_t type = 0, len = 0;
            struct vk_cur e;
            vk_cur_u16be(&exts, &type);
            vk_cur_u16be(&exts, &len);
            if (tls_is_grease(type)) {
                if (!vk_cur_skip(&exts, len)) break;
                continue;
            }
            /* Arkime lists an extension even when its body is cut short. */
            if (!list_push(&h.exts, type)) h.overflow = true;
            if (type != 0x0000 && type != 0x0010 && !list_push(&h.ja4_exts, type)) h.overflow = true;
            if (!vk_cur_take(&exts, len, &e)) {
                if (complete) anomaly(m, "tls.bad_extension");
                rc = VK_EFORMAT;
                break;
            }
            client_extension(&h, m, type, e);
        }
    }
    if (!complete) return VK_EFORMAT;
    if (h.overflow) {
        anomaly(m, "tls.too_many_values");
        return VK_ENOMEM;
    }
    client_fingerprints(&h, m, quic);
    return rc;
}

/* ---- ServerHello: version, cipher, JA3S ---------------------------------------------- */

static int server_hello(struct vk_meta *m, struct vk_cur b, bool complete)
{
    uint16_t ver, cipher;
    uint8_t sid_len = 0;

    if (!vk_cur_u16be(&b, &ver) || !vk_cur_skip(&b, 32)) {
        anomaly(m, "tls.truncated_hello");
        return VK_EFORMAT;
    }
    /* Legacy 0x0303 may hide TLS 1.3 in supported_versions; other values are final. */
    bool add12 = ver == 0x0303;
    if (!add12) add_version(m, ver);
    if (ver >= 0x0300 && ver <= 0x0303 && (!vk_cur_u8(&b, &sid_len) || !vk_cur_skip(&b, sid_len))) {
        anomaly(m, "tls.truncated_hello");
        return VK_EFORMAT;
    }
    if (!vk_cur_u16be(&b, &cipher)) {
        anomaly(m, "tls.truncated_hello");
        if (add12) add_version(m, ver);
        return VK_EFORMAT;
    }
    add_cipher(m, cipher);
    /* TLS 1.3 drafts before 22 have no compression byte. */
    if (ver < 0x7f00 || ver >= 0x7f16) vk_cur_skip(&b, 1);

    char ja3s[TLS_JA3_MAX], hash[2 * EVP_MAX_MD_SIZE + 1];
    struct tls_str s = {ja3s, 0, sizeof ja3s, false};
    str_printf(&s, "%u,%u,", (unsigned)ver, (unsigned)cipher);
    int rc = 0;
    uint16_t ext_len;
    if (vk_cur_left(&b) > 2 && vk_cur_u16be(&b, &ext_len)) {
        struct vk_cur exts = b;
        if (ext_len <= vk_cur_left(&b)) vk_cur_take(&b, ext_len, &exts);
        else rc = VK_EFORMAT;
        bool first = true;
        while (vk_cur_left(&exts) >= 4) {
            uint16_t type = 0, len = 0;
            struct vk_cur e;
            vk_cur_u16be(&exts, &type);
            vk_cur_u16be(&exts, &len);
            str_printf(&s, "%s%u", first ? "" : "-", (unsigned)type);
            first = false;
            if (!vk_cur_take(&exts, len, &e)) {
                rc = VK_EFORMAT;
                break;
            }
            uint16_t sv;
            if (type == 0x002b && len == 2 && vk_cur_u16be(&e, &sv) && sv == 0x0304) {
                add_version(m, sv);
                add12 = false;
            }
            /* The server picked HTTP/2: Arkime lists http2 among the protocols. */
            if (type == 0x0010 && len == 5 && memcmp(e.p, "\x00\x03\x02h2", 5) == 0)
                vk_meta_add_cstr(m, VK_K_SERVICE, "http2");
        }
    }
    if (add12) add_version(m, ver);
    if (rc) anomaly(m, complete ? "tls.bad_extension" : "tls.truncated_hello");
    if (!complete) return VK_EFORMAT;
    if (!s.over && digest_hex(md(D_MD5), s.p, s.len, hash)) vk_meta_add_str(m, VK_K_TLS_JA3S, hash, 32);
    return rc;
}

/* ---- Certificate: one X509 per entry, through OpenSSL --------------------------------- */

/* First commonName of a name, lower-cased, if it is a Printable/Teletex/UTF8 string (the
 * kinds Arkime reads). */
static void add_cn(struct vk_meta *m, enum vk_key k, const X509_NAME *name)
{
    int i = -1;
    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
        const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        int t = ASN1_STRING_type(s);
        if (t != V_ASN1_PRINTABLESTRING && t != V_ASN1_T61STRING && t != V_ASN1_UTF8STRING) continue;
        vk_meta_add_lower(m, k, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
        return;
    }
}

static void add_time(struct vk_meta *m, enum vk_key k, const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        anomaly(m, "tls.bad_cert_time");
        return;
    }
    time_t s = timegm(&tm);
    vk_meta_add_uint(m, k, s > 0 ? (uint64_t)s * 1000u : 0);
}

/* The serial as Arkime prints it: hex of the INTEGER's content bytes, sign byte kept. */
static void add_serial(struct vk_meta *m, const ASN1_INTEGER *serial)
{
    unsigned char der[80], *q = der;
    char hex[2 * sizeof der + 1];
    int n = serial ? i2d_ASN1_INTEGER(serial, NULL) : -1;
    if (n < 3 || n > (int)sizeof der) return;
    i2d_ASN1_INTEGER(serial, &q);
    struct vk_cur c = vk_cur_make(der, (size_t)n);
    uint8_t tag, len8;
    size_t len = 0;
    if (!vk_cur_u8(&c, &tag) || !vk_cur_u8(&c, &len8)) return;
    if (len8 < 0x80) len = len8;
    else if (len8 == 0x81 && vk_cur_u8(&c, &len8)) len = len8;
    if (len == 0 || len != vk_cur_left(&c)) return;
    vk_hex(c.p, len, hex);
    vk_meta_add_str(m, VK_K_TLS_CERT_SERIAL, hex, 2 * len);
}

static void add_alt_names(struct vk_meta *m, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens) return;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS) continue;
        const ASN1_IA5STRING *s = g->d.dNSName;
        vk_meta_add_lower(m, VK_K_TLS_CERT_ALT, (const char *)ASN1_STRING_get0_data(s),
                          (size_t)ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(gens);
}

/* One DER certificate. OpenSSL allocates the X509 (per certificate, never per packet). */
/* Certificate facts from one DER certificate into m (no memo). */
static void cert_facts(struct vk_meta *m, struct vk_cur der, const unsigned char sha1[20])
{
    const unsigned char *q = der.p;
    X509 *x = d2i_X509(NULL, &q, (long)vk_cur_left(&der));
    if (!x) {
        ERR_clear_error();
        anomaly(m, "tls.bad_cert");
        return;
    }
    char fp[60];
    for (unsigned i = 0; i < 20; i++)
        snprintf(fp + 3 * i, 4, "%02x%s", sha1[i], i + 1 < 20 ? ":" : "");
    vk_meta_add_str(m, VK_K_TLS_CERT_SHA1, fp, 59);
    add_cn(m, VK_K_TLS_CERT_SUBJECT, X509_get_subject_name(x));
    add_cn(m, VK_K_TLS_CERT_ISSUER, X509_get_issuer_name(x));
    add_serial(m, X509_get0_serialNumber(x));
    add_time(m, VK_K_TLS_CERT_NOT_BEFORE, X509_get0_notBefore(x));
    add_time(m, VK_K_TLS_CERT_NOT_AFTER, X509_get0_notAfter(x));
    add_alt_names(m, x);
    X509_free(x);
    ERR_clear_error();
}

/* Servers send the same certificates to every client, and d2i_X509 is costly (it decodes
 * the public key too), so the facts of a certificate are memoised per thread by its SHA-1:
 * the same DER bytes always give the same facts. Direct-mapped, CERT_MEMO slots; each
 * holds a small meta list, released when the thread exits. */
#define CERT_MEMO 4096 /* 256 KiB per thread; a busy link shows a few hundred chains */

struct cert_memo {
    struct {
        unsigned char sha1[20];
        bool used;
        struct vk_meta facts;
    } slot[CERT_MEMO];
};

static _Thread_local struct cert_memo *tl_certs;
static pthread_key_t certs_key;
static pthread_once_t certs_once = PTHREAD_ONCE_INIT;

static void certs_release(void *arg)
{
    struct cert_memo *cm = arg;
    for (int i = 0; i < CERT_MEMO; i++) vk_meta_free(&cm->slot[i].facts);
    free(cm);
}
static void certs_key_init(void) { pthread_key_create(&certs_key, certs_release); }

/* O(certificate) on a miss, O(facts) on a hit; allocates only on a miss. */
static void one_cert(struct vk_meta *m, struct vk_cur der)
{
    unsigned char sha1[20];
    if (!EVP_Digest(der.p, vk_cur_left(&der), sha1, NULL, md(D_SHA1), NULL)) {
        ERR_clear_error(); /* no SHA-1 in this OpenSSL: facts without fingerprint memo */
        memset(sha1, 0, sizeof sha1);
        cert_facts(m, der, sha1);
        return;
    }
    if (!tl_certs) {
        pthread_once(&certs_once, certs_key_init);
        tl_certs = calloc(1, sizeof *tl_certs);
        if (tl_certs) pthread_setspecific(certs_key, tl_certs);
    }
    if (!tl_certs) {
        cert_facts(m, der, sha1);
        return;
    }
    unsigned i = ((unsigned)sha1[0] << 16 | (unsigned)sha1[1] << 8 | sha1[2]) % CERT_MEMO;
    if (!tl_certs->slot[i].used || memcmp(tl_certs->slot[i].sha1, sha1, 20) != 0) {
        struct vk_meta *f = &tl_certs->slot[i].facts;
        vk_meta_reset(f);
        cert_facts(f, der, sha1);
        memcpy(tl_certs->slot[i].sha1, sha1, 20);
        tl_certs->slot[i].used = true;
    }
    vk_meta_merge(m, &tl_certs->slot[i].facts);
}

/* Certificate body: TLS <= 1.2 is a u24 list of u24-prefixed certs; TLS 1.3 (seen only
 * when someone hands us decrypted bytes) adds a context and per-entry extensions. */
static int certificate(struct vk_meta *m, struct vk_cur b, bool complete)
{
    struct vk_cur v12 = b, v13c = b, list;
    uint32_t len, len13;
    uint8_t ctx_len;
    bool v13 = false;
    if (!vk_cur_u24be(&v12, &len)) {
        anomaly(m, complete ? "tls.bad_cert" : "tls.truncated_cert");
        return VK_EFORMAT;
    }
    if (len == vk_cur_left(&v12)) {
        list = v12;
    } else if (vk_cur_u8(&v13c, &ctx_len) && vk_cur_skip(&v13c, ctx_len) && vk_cur_u24be(&v13c, &len13) &&
               len13 == vk_cur_left(&v13c)) {
        list = v13c;
        v13 = true;
    } else if (len < vk_cur_left(&v12)) {
        anomaly(m, "tls.bad_cert"); /* trailing bytes: read the list, ignore the rest */
        vk_cur_take(&v12, len, &list);
    } else if (!complete) {
        list = v12; /* cut short: take the certificates that arrived whole */
    } else {
        anomaly(m, "tls.bad_cert");
        return VK_EFORMAT;
    }
    unsigned count = 0;
    while (vk_cur_left(&list)) {
        uint32_t clen;
        uint16_t xlen;
        struct vk_cur der;
        if (!vk_cur_u24be(&list, &clen) || !vk_cur_take(&list, clen, &der)) {
            anomaly(m, complete ? "tls.bad_cert" : "tls.truncated_cert");
            return VK_EFORMAT;
        }
        if (count++ == TLS_MAX_CERTS) {
            anomaly(m, "tls.too_many_certs");
            break;
        }
        one_cert(m, der);
        if (v13 && (!vk_cur_u16be(&list, &xlen) || !vk_cur_skip(&list, xlen))) {
            anomaly(m, "tls.bad_cert");
            return VK_EFORMAT;
        }
    }
    if (!complete) anomaly(m, "tls.truncated_cert");
    return complete ? 0 : VK_EFORMAT;
}

/* ---- the shared entry point ---------------------------------------------------------- */

int vk_tls_handshake(struct vk_meta *m, const uint8_t *msg, size_t n, bool from_client, bool quic)
{
    struct vk_cur c = vk_cur_make(msg, n), body;
    uint8_t type;
    uint32_t len;
    if (!m || !msg || !vk_cur_u8(&c, &type) || !vk_cur_u24be(&c, &len)) {
        if (m) anomaly(m, "tls.truncated_hello");
        return VK_EINVAL;
    }
    bool complete = len <= vk_cur_left(&c);
    if (complete) vk_cur_take(&c, len, &body);
    else body = c;

    switch (type) {
    case TLS_HS_CLIENT_HELLO:
        if (!from_client) break;
        return client_hello(m, body, complete, quic);
    case TLS_HS_SERVER_HELLO:
        if (from_client) break;
        return server_hello(m, body, complete);
    case TLS_HS_CERTIFICATE:
        if (from_client) return 0; /* client certificates: not what Arkime reports */
        return certificate(m, body, complete);
    default:
        return 0;
    }
    anomaly(m, "tls.unexpected_message");
    return VK_EINVAL;
}

/* ---- the TCP stream parser ----------------------------------------------------------- */

struct tls_dir {
    struct vk_buf rec;   /* a record not yet whole (header included) */
    struct vk_buf hs;    /* handshake bytes not yet forming a whole message */
    bool stopped;        /* encrypted or unparseable from here on */
    bool started;        /* first record seen (SSLv2 framing is only allowed there) */
    bool hs_dropped;     /* hs overflowed: the rest of this direction is skipped */
};

struct tls_state {
    struct tls_dir d[2];
    int8_t client_dir;   /* -1 until a hello tells which side is the client */
    bool service, client_hello_done;
    uint8_t server_hellos, cert_msgs;
};

static void tls_init(void *st, struct vk_pctx *c)
{
    struct tls_state *s = st;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 2; i++) {
        vk_buf_init(&s->d[i].rec, TLS_REC_HDR + TLS_REC_MAX);
        vk_buf_init(&s->d[i].hs, TLS_HS_MAX);
    }
    s->client_dir = -1;
}

static void tls_release(void *st)
{
    struct tls_state *s = st;
    for (int i = 0; i < 2; i++) {
        vk_buf_free(&s->d[i].rec);
        vk_buf_free(&s->d[i].hs);
    }
}

static void set_service(struct tls_state *s, struct vk_pctx *c)
{
    if (s->service) return;
    s->service = true;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "tls");
}

static void stop_dir(struct tls_state *s, struct vk_pctx *c, int dir)
{
    struct tls_dir *d = &s->d[dir];
    d->stopped = true;
    vk_buf_free(&d->rec);
    vk_buf_free(&d->hs);
    if (s->d[!dir].stopped) c->done = true;
}

/* One whole handshake message from direction dir. */
static void on_message(struct tls_state *s, struct vk_pctx *c, int dir, const uint8_t *msg, size_t n)
{
    switch (msg[0]) {
    case TLS_HS_CLIENT_HELLO:
        set_service(s, c);
        /* A retry after HelloRetryRequest is not fingerprinted: Arkime keeps the first. */
        if (s->client_hello_done || (s->client_dir >= 0 && dir != s->client_dir)) return;
        s->client_hello_done = true;
        s->client_dir = (int8_t)dir;
        vk_tls_handshake(c->meta, msg, n, true, false);
        break;
    case TLS_HS_SERVER_HELLO:
        set_service(s, c);
        if (s->client_dir < 0) s->client_dir = (int8_t)!dir;
        if (dir == s->client_dir || s->server_hellos >= TLS_MAX_SERVER_HELLOS) return;
        s->server_hellos++;
        vk_tls_handshake(c->meta, msg, n, false, false);
        break;
    case TLS_HS_CERTIFICATE:
        if (s->client_dir < 0 || dir == s->client_dir) return;
        if (s->cert_msgs >= TLS_MAX_CERT_MSGS) return;
        s->cert_msgs++;
        vk_tls_handshake(c->meta, msg, n, false, false);
        break;
    default: break;
    }
}

/* Whole messages at the front of p[0..n); returns the bytes they took. */
static size_t messages(struct tls_state *s, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct vk_cur cur = vk_cur_make(p, n);
    size_t used = 0;
    for (;;) {
        struct vk_cur look = cur, body;
        uint8_t type;
        uint32_t len;
        if (!vk_cur_u8(&look, &type) || !vk_cur_u24be(&look, &len) || !vk_cur_take(&look, len, &body))
            return used;
        on_message(s, c, dir, cur.p, 4 + (size_t)len);
        vk_cur_skip(&cur, 4 + (size_t)len);
        used += 4 + (size_t)len;
        if (s->d[dir].stopped) return used;
    }
}

/* The fragment of one handshake record. Parses in place when nothing is pending, else
 * appends to the direction's hs buffer. O(fragment); allocates only when a message spans
 * records (the buffer grows up to TLS_HS_MAX, then the direction is given up). */
static void handshake_fragment(struct tls_state *s, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &s->d[dir];
    if (d->hs_dropped) return;
    if (d->hs.len == 0) {
        if (n && (p[0] == TLS_HS_CLIENT_HELLO || p[0] == TLS_HS_SERVER_HELLO)) set_service(s, c);
        size_t used = messages(s, c, dir, p, n);
        p += used;
        n -= used;
        if (n == 0 || d->stopped) return;
    }
    if (vk_buf_append(&d->hs, p, n) != 0) {
        anomaly(c->meta, "tls.handshake_too_long");
        d->hs_dropped = true;
        vk_buf_free(&d->hs);
        stop_dir(s, c, dir);
        return;
    }
    size_t used = messages(s, c, dir, d->hs.p, d->hs.len);
    if (!d->stopped) vk_buf_consume(&d->hs, used);
}

/* One whole record (type, fragment). */
static void on_record(struct tls_state *s, struct vk_pctx *c, int dir, int type, const uint8_t *p, size_t n)
{
    switch (type) {
    case TLS_CT_HANDSHAKE: handshake_fragment(s, c, dir, p, n); break;
    case TLS_CT_ALERT: break; /* cleartext alert before keys: nothing to learn */
    case TLS_CT_SSL2:
        /* SSLv2-framed CLIENT-HELLO (or SERVER-HELLO): it is TLS for service purposes;
         * Arkime makes no fingerprint of it. An SSLv2 server never speaks records. */
        set_service(s, c);
        if (n && p[0] == 4) stop_dir(s, c, dir);
        break;
    default: stop_dir(s, c, dir); break; /* ChangeCipherSpec, application data, heartbeat */
    }
}

/* Length of the record starting with the 5 header bytes h, or 0 when they are not a
 * record. Sets *type and *hlen (5 for TLS, 2 for SSLv2 framing on the first record). */
static size_t record_len(struct tls_dir *d, const uint8_t *h, int *type, size_t *hlen)
{
    if (!d->started && (h[0] & 0x80) && (h[2] == 1 || h[2] == 4)) {
        /* CLIENT-HELLO: version 0x0002 or 0x03xx; SERVER-HELLO: session-id-hit 0/1 and
         * certificate type 1 (X.509). */
        bool v_ok = h[2] == 1 ? ((h[3] == 3 && h[4] <= 4) || (h[3] == 0 && h[4] == 2))
                              : (h[3] <= 1 && h[4] == 1);
        size_t len = (size_t)(h[0] & 0x7f) << 8 | h[1];
        if (v_ok && len >= 3) {
            *type = TLS_CT_SSL2;
            *hlen = 2;
            return 2 + len;
        }
    }
    size_t len = (size_t)h[3] << 8 | h[4];
    if (h[0] < TLS_CT_CCS || h[0] > TLS_CT_HEARTBEAT || h[1] != 3 || h[2] > 4 || len > TLS_REC_MAX)
        return 0;
    *type = h[0];
    *hlen = TLS_REC_HDR;
    return TLS_REC_HDR + len;
}

/* Length of a PROXY protocol header (v1 text or v2 binary, as load balancers put before
 * the ClientHello) wholly inside p[0..n), else 0. */
static size_t proxy_header_len(const uint8_t *p, size_t n)
{
    static const uint8_t v2sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
    if (n >= 16 && memcmp(p, v2sig, sizeof v2sig) == 0) {
        size_t len = 16 + ((size_t)p[14] << 8 | p[15]);
        return len <= n ? len : 0;
    }
    if (n >= 8 && memcmp(p, "PROXY ", 6) == 0)
        for (size_t i = 6; i + 1 < n && i < 107; i++)
            if (p[i] == '\r' && p[i + 1] == '\n') return i + 2;
    return 0;
}

/* In-order bytes of one direction. O(n) plus the handshake parsing they complete; copies
 * only a record cut by a segment boundary (into d->rec, capped at one record). */
static void tls_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct tls_state *s = st;
    struct tls_dir *d = &s->d[dir & 1];
    dir &= 1;
    struct vk_cur in = vk_cur_make(p, n);
    if (!d->started && d->rec.len == 0) vk_cur_skip(&in, proxy_header_len(p, n));
    while (!d->stopped && vk_cur_left(&in)) {
        int type;
        size_t hlen, total;
        if (d->rec.len == 0 && vk_cur_left(&in) >= TLS_REC_HDR) {
            /* Fast path: records whole inside this segment are parsed where they lie. */
            total = record_len(d, in.p, &type, &hlen);
            if (total == 0) goto bad;
            if (total <= vk_cur_left(&in)) {
                struct vk_cur r;
                vk_cur_take(&in, total, &r);
                d->started = true;
                on_record(s, c, dir, type, r.p + hlen, total - hlen);
                continue;
            }
        }
        /* Slow path: gather the header, then the rest of the record. */
        size_t want = TLS_REC_HDR;
        bool have_len = false; /* an SSLv2 record may be exactly TLS_REC_HDR long */
        if (d->rec.len >= TLS_REC_HDR) {
            total = record_len(d, d->rec.p, &type, &hlen);
            if (total == 0) goto bad;
            want = total;
            have_len = true;
        }
        size_t take = want - d->rec.len;
        if (take > vk_cur_left(&in)) take = vk_cur_left(&in);
        if (vk_buf_append(&d->rec, in.p, take) != 0) goto bad; /* cannot happen: want <= max */
        vk_cur_skip(&in, take);
        if (d->rec.len < want) break;
        if (!have_len) continue; /* header complete: the loop computes the length */
        d->started = true;
        on_record(s, c, dir, type, d->rec.p + hlen, total - hlen);
        d->rec.len = 0;
    }
    return;
bad:
    /* Bytes that never looked like TLS (a mid-stream start claimed on the port alone) are
     * not a broken record: stop quietly then. */
    if (s->service || d->started) anomaly(c->meta, "tls.bad_record");
    stop_dir(s, c, dir);
}

/* Bytes were lost: record and message boundaries are gone, so the direction ends here. */
static void tls_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct tls_state *s = st;
    dir &= 1;
    if (s->d[dir].stopped) return;
    anomaly(c->meta, "tls.gap");
    stop_dir(s, c, dir);
}

/* A hello or certificate left half-way (capture cut, session saved mid-handshake): take
 * what it holds, with the bytes of a record still incomplete counted in. The buffers are
 * left as they were, so that an interim save does not break the parse of later bytes. */
static void tls_finish(void *st, struct vk_pctx *c)
{
    struct tls_state *s = st;
    for (int dir = 0; dir < 2; dir++) {
        struct tls_dir *d = &s->d[dir];
        if (d->stopped || d->hs_dropped) continue;
        size_t keep = d->hs.len;
        int type;
        size_t hlen;
        if (d->rec.len > TLS_REC_HDR && record_len(d, d->rec.p, &type, &hlen) != 0 &&
            type == TLS_CT_HANDSHAKE)
            vk_buf_append(&d->hs, d->rec.p + hlen, d->rec.len - hlen); /* may not fit: then without */
        if (d->hs.len == 0) continue;
        size_t used = messages(s, c, dir, d->hs.p, d->hs.len);
        if (d->hs.len - used >= 4) {
            const uint8_t *p = d->hs.p + used;
            size_t n = d->hs.len - used;
            uint8_t t = p[0];
            bool take = (t == TLS_HS_CLIENT_HELLO && !s->client_hello_done &&
                         (s->client_dir < 0 || s->client_dir == dir)) ||
                        (t == TLS_HS_SERVER_HELLO && s->client_dir != dir &&
                         s->server_hellos < TLS_MAX_SERVER_HELLOS) ||
                        (t == TLS_HS_CERTIFICATE && s->client_dir >= 0 && s->client_dir != dir &&
                         s->cert_msgs < TLS_MAX_CERT_MSGS);
            if (t == TLS_HS_CLIENT_HELLO || t == TLS_HS_SERVER_HELLO) set_service(s, c);
            if (take) vk_tls_handshake(c->meta, p, n, t == TLS_HS_CLIENT_HELLO, false);
        }
        d->hs.len = keep;
    }
}

static bool tls_port(uint16_t p)
{
    switch (p) {
    case 443: case 465: case 563: case 636: case 853: case 989: case 990: case 992:
    case 993: case 994: case 995: case 5061: case 8443:
        return true;
    default:
        return false;
    }
}

/* 3: a TLS record holding a hello; 2: another handshake record or an SSLv2 hello;
 * 1: a TLS port. A PROXY protocol header in front is looked past. */
static int tls_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    if (n >= 6 && p[0] == TLS_CT_HANDSHAKE && p[1] == 3 && p[2] <= 4) {
        if (p[5] == TLS_HS_CLIENT_HELLO || p[5] == TLS_HS_SERVER_HELLO) return 3;
        return 2;
    }
    if (n >= 5 && (p[0] & 0x80) && p[2] == 1 && ((p[3] == 3 && p[4] <= 4) || (p[3] == 0 && p[4] == 2)))
        return 2;
    size_t skip = proxy_header_len(p, n);
    if (skip && skip < n) return tls_probe(f, dir, p + skip, n - skip);
    if (f && (tls_port(f->port[0]) || tls_port(f->port[1]))) return 1;
    return 0;
}

const struct vk_parser vk_proto_tls = {
    .name = "tls",
    .ipproto = 6,
    .probe = tls_probe,
    .state_size = sizeof(struct tls_state),
    .init = tls_init,
    .data = tls_data,
    .gap = tls_gap,
    .finish = tls_finish,
    .release = tls_release,
};
