/* proto.c — the parser registry: which parsers exist and in which order they are probed.
 *
 * The flow stage asks vk_proto_all for candidates; this file knows nothing about flows. */
#include "vk_proto.h"

const struct vk_parser *const vk_proto_all[VK_PROTO_SLOTS] = {
    &vk_proto_http, &vk_proto_tls,  &vk_proto_dns_udp, &vk_proto_dns_tcp,
    &vk_proto_smtp, &vk_proto_ftp,  &vk_proto_ssh,     &vk_proto_smb,
    &vk_proto_dhcp, &vk_proto_quic, &vk_proto_ftp_data, &vk_proto_fbzero,
    &vk_proto_socks,
    &vk_proto_sig_udp, &vk_proto_sig_tcp, /* last: real parsers win ties */
};

const struct vk_parser *vk_proto_by_name(const char *name, uint8_t ipproto)
{
    for (int i = 0; i < VK_PROTO_SLOTS; i++)
        if (vk_proto_all[i] && vk_proto_all[i]->ipproto == ipproto &&
            strcmp(vk_proto_all[i]->name, name) == 0)
            return vk_proto_all[i];
    return NULL;
}
