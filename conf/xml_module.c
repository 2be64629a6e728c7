/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table exported by litevirt-xml.so (and used directly by tests). */
#include "conf/cookie.h"
#include "conf/xml.h"

extern const struct conf_xml_ops lv_conf_xml_ops;
__attribute__((visibility("default"))) const struct conf_xml_ops lv_conf_xml_ops = {
        .domain_parse_string = domain_parse_string,
        .domain_parse_file = domain_parse_file,
        .cookie_parse_string = cookie_parse_string,
        .network_parse_string = network_parse_string,
        .network_parse_file = network_parse_file,
        .network_update_parse_string = network_update_parse_string,
};
