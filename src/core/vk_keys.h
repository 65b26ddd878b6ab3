/* vk_keys.h — the meta-key registry as an X-macro list.
 *
 * Every stage names meta keys through these enum values; the names, types and help text
 * live here once. keys.c turns the list into the lookup table, and docs are generated
 * from `vakt keys`. Add keys freely; never rename the core ones (../shared/META-KEYS.md). */
#ifndef VK_KEYS_H
#define VK_KEYS_H

/* X(enum suffix, "name", type, "what") */
#define VK_KEY_LIST(X) \
    X(TIME, "time", VK_T_TIME, "first packet, ms since epoch") \
    X(TIME_END, "time.end", VK_T_TIME, "last packet, ms since epoch") \
    X(ID, "id", VK_T_STR, "session or event id") \
    X(IP_SRC, "ip.src", VK_T_IP, "initiator address") \
    X(IP_DST, "ip.dst", VK_T_IP, "responder address") \
    X(PORT_SRC, "port.src", VK_T_UINT, "initiator port") \
    X(PORT_DST, "port.dst", VK_T_UINT, "responder port") \
    X(IP_PROTO, "ip.proto", VK_T_UINT, "IP protocol number") \
    X(COMMUNITY_ID, "community_id", VK_T_STR, "Community ID v1, seed 0") \
    X(ETH_SRC, "eth.src", VK_T_STR, "initiator MAC") \
    X(ETH_DST, "eth.dst", VK_T_STR, "responder MAC") \
    X(VLAN, "vlan", VK_T_UINT, "802.1Q ids") \
    X(MPLS, "mpls", VK_T_UINT, "MPLS labels") \
    X(TUNNEL, "tunnel", VK_T_STR, "tunnel encapsulations crossed (gre, vxlan, gtp, ...)") \
    X(TUNNEL_IP_SRC, "tunnel.ip.src", VK_T_IP, "outer source address of a tunnel") \
    X(TUNNEL_IP_DST, "tunnel.ip.dst", VK_T_IP, "outer destination address of a tunnel") \
    X(PACKETS_SRC, "packets.src", VK_T_UINT, "packets from src") \
    X(PACKETS_DST, "packets.dst", VK_T_UINT, "packets from dst") \
    X(BYTES_SRC, "bytes.src", VK_T_UINT, "frame bytes from src") \
    X(BYTES_DST, "bytes.dst", VK_T_UINT, "frame bytes from dst") \
    X(PAYLOAD_SRC, "payload.src", VK_T_UINT, "transport payload bytes from src") \
    X(PAYLOAD_DST, "payload.dst", VK_T_UINT, "transport payload bytes from dst") \
    X(TCP_FLAGS, "tcp.flags", VK_T_STR, "TCP flags seen") \
    X(SERVICE, "service", VK_T_STR, "application protocols found") \
    X(APP, "app", VK_T_STR, "application name from nDPI") \
    X(ALIAS_HOST, "alias.host", VK_T_STR, "every host name seen") \
    X(HTTP_HOST, "http.host", VK_T_STR, "HTTP Host header") \
    X(HTTP_METHOD, "http.method", VK_T_STR, "HTTP request method") \
    X(HTTP_URI, "http.uri", VK_T_STR, "host + path, as Arkime writes it") \
    X(HTTP_PATH, "http.path", VK_T_STR, "request path without the query, as Arkime writes it") \
    X(HTTP_STATUS, "http.status", VK_T_UINT, "HTTP response status") \
    X(HTTP_USER_AGENT, "http.user_agent", VK_T_STR, "HTTP User-Agent") \
    X(HTTP_REFERER, "http.referer", VK_T_STR, "HTTP Referer") \
    X(HTTP_CONTENT_TYPE, "http.content_type", VK_T_STR, "HTTP Content-Type header") \
    X(HTTP_VERSION, "http.version", VK_T_STR, "HTTP version") \
    X(HTTP_SERVER, "http.server", VK_T_STR, "HTTP Server header") \
    X(HTTP_HEADER_REQ, "http.header.request", VK_T_STR, "request header names") \
    X(HTTP_HEADER_RESP, "http.header.response", VK_T_STR, "response header names") \
    X(DNS_QUERY, "dns.query", VK_T_STR, "DNS names asked") \
    X(DNS_QTYPE, "dns.qtype", VK_T_STR, "DNS query type") \
    X(DNS_RCODE, "dns.rcode", VK_T_STR, "DNS response status") \
    X(DNS_ANSWER, "dns.answer", VK_T_STR, "answered addresses") \
    X(DNS_ANSWER_NAME, "dns.answer.name", VK_T_STR, "names in answers (CNAME, NS, MX, PTR, ...)") \
    X(DNS_TXT, "dns.txt", VK_T_STR, "TXT record strings") \
    X(TLS_SNI, "tls.sni", VK_T_STR, "TLS server name") \
    X(TLS_VERSION, "tls.version", VK_T_STR, "TLS version, as Arkime prints it") \
    X(TLS_CIPHER, "tls.cipher", VK_T_STR, "TLS cipher suite") \
    X(TLS_ALPN, "tls.alpn", VK_T_STR, "ALPN protocols offered") \
    X(TLS_JA3, "tls.ja3", VK_T_STR, "JA3 client fingerprint") \
    X(TLS_JA3S, "tls.ja3s", VK_T_STR, "JA3S server fingerprint") \
    X(TLS_JA4, "tls.ja4", VK_T_STR, "JA4 client fingerprint") \
    X(TLS_CERT_SUBJECT, "tls.cert.subject", VK_T_STR, "certificate subject CN") \
    X(TLS_CERT_ISSUER, "tls.cert.issuer", VK_T_STR, "certificate issuer CN") \
    X(TLS_CERT_SERIAL, "tls.cert.serial", VK_T_STR, "certificate serial, hex") \
    X(TLS_CERT_NOT_BEFORE, "tls.cert.not_before", VK_T_TIME, "certificate validity start") \
    X(TLS_CERT_NOT_AFTER, "tls.cert.not_after", VK_T_TIME, "certificate validity end") \
    X(TLS_CERT_ALT, "tls.cert.alt", VK_T_STR, "certificate subjectAltName DNS names") \
    X(TLS_CERT_SHA1, "tls.cert.sha1", VK_T_STR, "certificate SHA-1 fingerprint") \
    X(EMAIL_SRC, "email.src", VK_T_STR, "mail sender") \
    X(EMAIL_DST, "email.dst", VK_T_STR, "mail recipients") \
    X(EMAIL_SUBJECT, "email.subject", VK_T_STR, "mail subject") \
    X(EMAIL_MESSAGE_ID, "email.message_id", VK_T_STR, "Message-ID header") \
    X(EMAIL_CONTENT_TYPE, "email.content_type", VK_T_STR, "MIME content types") \
    X(SMTP_HELO, "smtp.helo", VK_T_STR, "SMTP EHLO/HELO name") \
    X(SMTP_STARTTLS, "smtp.starttls", VK_T_UINT, "1 when STARTTLS was issued") \
    X(FTP_COMMAND, "ftp.command", VK_T_STR, "FTP commands") \
    X(FTP_REPLY, "ftp.reply", VK_T_UINT, "FTP reply codes") \
    X(FTP_BANNER, "ftp.banner", VK_T_STR, "FTP server welcome banner (220 text)") \
    X(SSH_VERSION, "ssh.version", VK_T_STR, "SSH banners") \
    X(SSH_HASSH, "ssh.hassh", VK_T_STR, "HASSH client fingerprint") \
    X(SSH_HASSH_SERVER, "ssh.hassh_server", VK_T_STR, "HASSH server fingerprint") \
    X(SMB_DIALECT, "smb.dialect", VK_T_STR, "SMB dialect negotiated") \
    X(SMB_TREE, "smb.tree", VK_T_STR, "SMB tree (share) paths") \
    X(SMB_FILE, "smb.file", VK_T_STR, "SMB file names") \
    X(SMB_DOMAIN, "smb.domain", VK_T_STR, "SMB/NTLMSSP logon domains") \
    X(SMB_OS, "smb.os", VK_T_STR, "SMB1 client native OS") \
    X(DHCP_HOST, "dhcp.host", VK_T_STR, "DHCP client host name") \
    X(DHCP_MAC, "dhcp.mac", VK_T_STR, "DHCP client hardware address") \
    X(DHCP_IP, "dhcp.ip", VK_T_IP, "address assigned or requested") \
    X(DHCP_TYPE, "dhcp.type", VK_T_STR, "DHCP message types") \
    X(DHCP_ID, "dhcp.id", VK_T_STR, "DHCP transaction ids, hex") \
    X(DHCP_CLASS, "dhcp.class", VK_T_STR, "DHCP vendor class identifiers") \
    X(QUIC_VERSION, "quic.version", VK_T_STR, "QUIC version") \
    X(QUIC_SNI, "quic.sni", VK_T_STR, "Google QUIC CHLO server name (Arkime quic.host)") \
    X(QUIC_USER_AGENT, "quic.user_agent", VK_T_STR, "Google QUIC CHLO UAID / IETF google_user_agent") \
    X(USER, "user", VK_T_STR, "user names seen") \
    X(PASSWORD_SEEN, "password.seen", VK_T_UINT, "1 when a cleartext password crossed") \
    X(ICMP_TYPE, "icmp.type", VK_T_UINT, "ICMP type") \
    X(ICMP_CODE, "icmp.code", VK_T_UINT, "ICMP code") \
    X(FILE_NAME, "file.name", VK_T_STR, "names of files carried") \
    X(FILE_TYPE, "file.type", VK_T_STR, "MIME type from content") \
    X(FILE_SIZE, "file.size", VK_T_UINT, "file sizes") \
    X(FILE_MD5, "file.md5", VK_T_STR, "file MD5") \
    X(FILE_SHA256, "file.sha256", VK_T_STR, "file SHA-256") \
    X(PARENT, "session.parent", VK_T_STR, "id of the control session (FTP data)") \
    X(INTERIM, "session.interim", VK_T_UINT, "n-th interim record of a long session") \
    X(KIND, "kind", VK_T_STR, "record kind: session or event") \
    X(HOST_SRC, "host.src", VK_T_STR, "source named only by host name (logs)") \
    X(HOST_DST, "host.dst", VK_T_STR, "destination named only by host name (logs)") \
    X(DEVICE_HOST, "device.host", VK_T_STR, "host that reported the event") \
    X(DEVICE_IP, "device.ip", VK_T_IP, "address of the reporting host or sender") \
    X(DEVICE_TYPE, "device.type", VK_T_STR, "kind of log source (sshd, sudo, nginx, windows, ...)") \
    X(EVENT_TYPE, "event.type", VK_T_STR, "normalised action (login, logout, privilege, ...)") \
    X(EVENT_OUTCOME, "event.outcome", VK_T_STR, "success or failure") \
    X(EVENT_ID, "event.id", VK_T_UINT, "source event id (Windows EventID, ASA message id)") \
    X(PROCESS, "process", VK_T_STR, "program name") \
    X(PID, "pid", VK_T_UINT, "process id") \
    X(SEVERITY, "severity", VK_T_STR, "syslog severity") \
    X(FACILITY, "facility", VK_T_STR, "syslog facility") \
    X(MESSAGE, "message", VK_T_STR, "free text of a log event") \
    X(LOG_TEMPLATE, "log.template", VK_T_STR, "template the line matched (variables as <*>)") \
    X(LOG_FORMAT, "log.format", VK_T_STR, "framing: rfc3164, rfc5424, cef, leef, json, kv, plain") \
    X(LOG_SOURCE, "log.source", VK_T_STR, "where the line came from: file path or peer") \
    X(LOG_RAW, "log.raw", VK_T_UINT, "reference of the original line in the short-term log archive") \
    X(THREAT_CATEGORY, "threat.category", VK_T_STR, "threat-intel category of a match") \
    X(THREAT_SOURCE, "threat.source", VK_T_STR, "feed that matched") \
    X(THREAT_DESC, "threat.desc", VK_T_STR, "description of the matched indicator") \
    X(THREAT_CONFIDENCE, "threat.confidence", VK_T_UINT, "confidence of the match, 0-100") \
    X(THREAT_INDICATOR, "threat.indicator", VK_T_STR, "indicator that matched") \
    X(COUNTRY_SRC, "country.src", VK_T_STR, "ISO country of ip.src") \
    X(COUNTRY_DST, "country.dst", VK_T_STR, "ISO country of ip.dst") \
    X(ASN_SRC, "asn.src", VK_T_UINT, "AS number of ip.src") \
    X(ASN_DST, "asn.dst", VK_T_UINT, "AS number of ip.dst") \
    X(THREAT_MATCH, "threat.match", VK_T_STR, "feed|type|indicator|key of each intel match") \
    X(ASSET_NAME, "asset.name", VK_T_STR, "assets of either side") \
    X(ASSET_OWNER, "asset.owner", VK_T_STR, "owners of the assets involved") \
    X(ASSET_PROCESS, "asset.process", VK_T_STR, "business processes of the assets involved") \
    X(ASSET_CRITICALITY, "asset.criticality", VK_T_UINT, "highest criticality (1-5) of the assets involved") \
    X(ASSET_CLASS, "asset.class", VK_T_STR, "data classification of the assets involved") \
    X(ASSET_COMPLIANCE, "asset.compliance", VK_T_STR, "compliance scopes of the assets involved") \
    X(ASSET_SRC_NAME, "asset.src.name", VK_T_STR, "asset of ip.src") \
    X(ASSET_DST_NAME, "asset.dst.name", VK_T_STR, "asset of ip.dst") \
    X(ASSET_SRC_CRITICALITY, "asset.src.criticality", VK_T_UINT, "criticality of the ip.src asset") \
    X(ASSET_DST_CRITICALITY, "asset.dst.criticality", VK_T_UINT, "criticality of the ip.dst asset") \
    X(ANOMALY, "anomaly", VK_T_STR, "decoder and parser anomalies")

#endif
