/* fuzz_ftp.c — libFuzzer harness for the FTP control parser and the ftp-data hasher (the
 * same input through both); input format in fuzz_parser.h. */
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{10, 0, 0, 1}, {10, 0, 0, 2}},
                             .port = {40000, 21}};
    vk_fuzz_parser(&vk_proto_ftp, &f, vk_cur_make(data, size), false);
    vk_fuzz_parser(&vk_proto_ftp_data, &f, vk_cur_make(data, size), false);
    return 0;
}
