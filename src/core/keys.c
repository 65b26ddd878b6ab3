/* keys.c — the meta-key registry table built from vk_keys.h, and lookup by name. */
#include <stdlib.h>

#include "vk_core.h"

#define VK_KEY_ROW(e, n, t, h) {n, t, h},
static const struct vk_keyinfo keys[VK_K__COUNT] = {VK_KEY_LIST(VK_KEY_ROW)};
#undef VK_KEY_ROW

const struct vk_keyinfo *vk_key_info(enum vk_key k)
{
    return (unsigned)k < VK_K__COUNT ? &keys[k] : NULL;
}

int vk_key_lookup(const char *name)
{
    /* The registry is small (about 100 keys): a linear scan costs less than keeping a
     * sorted copy in sync, and lookups happen at query-parse time, not per packet. */
    for (int i = 0; i < VK_K__COUNT; i++)
        if (strcmp(keys[i].name, name) == 0) return i;
    return -1;
}

bool vk_key_exact(enum vk_key k)
{
    /* identifiers vakt or the Community ID spec makes: base64 and our hex ids are
     * case-sensitive, and an index that folds case would cost every session two inserts */
    return k == VK_K_ID || k == VK_K_COMMUNITY_ID;
}

bool vk_key_unique(enum vk_key k)
{
    switch (k) {
    case VK_K_ID: case VK_K_COMMUNITY_ID: case VK_K_PORT_SRC:
    case VK_K_BYTES_SRC: case VK_K_BYTES_DST: case VK_K_PACKETS_SRC: case VK_K_PACKETS_DST:
    case VK_K_PAYLOAD_SRC: case VK_K_PAYLOAD_DST: case VK_K_MESSAGE: case VK_K_LOG_RAW:
    case VK_K_PID: case VK_K_DHCP_ID:
        return true;
    default:
        return false;
    }
}
